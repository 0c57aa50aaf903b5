/*
 * test_ifspec.c - `-i IFACE[@IFINDEX]`: the kernel's ifIndex by default (lo, and the index
 * if_nameindex() lists for every interface of this namespace), an explicit one, "any", names
 * containing '@', and each error naming the argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ifspec.h"

static void
kernel_index(void **state)
{
    (void)state;
    struct ifs_spec s;
    char err[128];
    struct if_nameindex *all = if_nameindex(), *i;
    assert_non_null(all);
    int n = 0;
    for (i = all; i->if_index != 0; i++, n++) {
        assert_int_equal(ifs_parse(i->if_name, &s, err, sizeof(err)), 0);
        assert_string_equal(s.name, i->if_name);
        assert_int_equal(s.ifindex, i->if_index);
        assert_int_equal(s.explicit_index, 0);
    }
    if_freenameindex(all);
    assert_true(n >= 1); /* lo at least */
    assert_int_equal(ifs_parse("lo", &s, err, sizeof(err)), 0);
    assert_int_equal(s.ifindex, if_nametoindex("lo"));
}

static void
explicit_index(void **state)
{
    (void)state;
    struct ifs_spec s;
    char err[128];
    assert_int_equal(ifs_parse("eth1@12", &s, err, sizeof(err)), 0);
    assert_string_equal(s.name, "eth1");
    assert_int_equal(s.ifindex, 12);
    assert_int_equal(s.explicit_index, 1);
    assert_int_equal(ifs_parse("lo@4294967295", &s, err, sizeof(err)), 0);
    assert_int_equal(s.ifindex, 4294967295u);
    assert_int_equal(ifs_parse("any", &s, err, sizeof(err)), 0);
    assert_int_equal(s.ifindex, 0);
    assert_int_equal(ifs_parse("any@3", &s, err, sizeof(err)), 0);
    assert_int_equal(s.ifindex, 3);
    /* the last '@' with digits only is the index */
    assert_int_equal(ifs_parse("br@x@7", &s, err, sizeof(err)), 0);
    assert_string_equal(s.name, "br@x");
    assert_int_equal(s.ifindex, 7);
}

static void
expect(const char *arg, int rc, const char *msg)
{
    struct ifs_spec s;
    char err[160] = "";
    assert_int_equal(ifs_parse(arg, &s, err, sizeof(err)), rc);
    assert_string_equal(err, msg);
}

static void
errors(void **state)
{
    (void)state;
    expect("eth1@", -EINVAL, "-i eth1@: missing ifIndex after '@'");
    expect("eth1@0", -EINVAL, "-i eth1@0: ifIndex '0' not in 1-4294967295");
    expect("eth1@4294967296", -EINVAL, "-i eth1@4294967296: ifIndex '4294967296' not in 1-4294967295");
    expect("@5", -EINVAL, "-i @5: missing interface name");
    expect("", -EINVAL, "-i : missing interface name");
    expect("abcdefghijklmnopq@2", -EINVAL, "-i abcdefghijklmnopq@2: interface name longer than 15 characters");
    expect("nfprobe-none0", -ENODEV,
           "-i nfprobe-none0: no such interface (give its ifIndex as nfprobe-none0@N to export anyway)");
    expect("nfp0@x1", -ENODEV,
           "-i nfp0@x1: no such interface (give its ifIndex as nfp0@x1@N to export anyway)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_index),
        cmocka_unit_test(explicit_index),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
