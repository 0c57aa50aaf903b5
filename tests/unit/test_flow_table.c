/*
 * test_flow_table.c - ft_*: lookups, backward-shift deletion, creation order, pool reuse.
 *
 * A random operation sequence is checked against a plain reference array, so every probe run
 * and deletion shift is exercised, including wrap-around at the end of the slot array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow_table.h"

static uint64_t rng = 0x1234567887654321ull;

static uint64_t
next_rand(void)
{
    /* splitmix64 */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static struct flow_key
key_of(uint32_t n)
{
    struct flow_key k;
    memset(&k, 0, sizeof(k));
    k.lo_ip[0] = 10;
    memcpy(&k.lo_ip[12], &n, 4);
    k.hi_ip[0] = 192;
    k.lo_port = (uint16_t)n;
    k.hi_port = 443;
    k.protocol = 6;
    k.ip_version = 4;
    return k;
}

static void
insert_lookup_remove(void **state)
{
    (void)state;
    char err[256];
    struct ft_table *t = ft_new(64, sizeof(struct flow), 42, err, sizeof(err));
    assert_non_null(t);
    struct flow_key k = key_of(7);
    uint32_t h = ft_hash(t, &k);
    assert_null(ft_lookup(t, &k, h));
    struct flow *f = ft_insert(t, &k, h);
    assert_non_null(f);
    assert_memory_equal(&f->key, &k, sizeof(k));
    assert_ptr_equal(ft_lookup(t, &k, h), f);
    assert_int_equal(ft_count(t), 1);
    ft_remove(t, f);
    assert_null(ft_lookup(t, &k, h));
    assert_int_equal(ft_count(t), 0);
    assert_null(ft_oldest(t));
    ft_free(t);
}

static void
full_table_refuses(void **state)
{
    (void)state;
    char err[256];
    struct ft_table *t = ft_new(8, sizeof(struct flow), 1, err, sizeof(err));
    for (uint32_t i = 0; i < 8; i++) {
        struct flow_key k = key_of(i);
        assert_non_null(ft_insert(t, &k, ft_hash(t, &k)));
    }
    struct flow_key k = key_of(100);
    assert_null(ft_insert(t, &k, ft_hash(t, &k)));
    /* freeing one makes room again and the slot is reused */
    struct flow *old = ft_oldest(t);
    ft_remove(t, old);
    struct flow *f = ft_insert(t, &k, ft_hash(t, &k));
    assert_ptr_equal(f, old);
    ft_free(t);
}

static void
creation_order(void **state)
{
    (void)state;
    char err[256];
    struct ft_table *t = ft_new(16, sizeof(struct flow), 3, err, sizeof(err));
    struct flow *f[5];
    for (uint32_t i = 0; i < 5; i++) {
        struct flow_key k = key_of(i);
        f[i] = ft_insert(t, &k, ft_hash(t, &k));
    }
    ft_remove(t, f[2]);
    ft_remove(t, f[0]);
    struct flow_key k = key_of(99);
    struct flow *g = ft_insert(t, &k, ft_hash(t, &k));
    const struct flow *want[] = {f[1], f[3], f[4], g};
    const struct flow *x = ft_oldest(t);
    for (size_t i = 0; i < 4; i++, x = ft_next(t, x))
        assert_ptr_equal(x, want[i]);
    assert_null(x);
    ft_free(t);
}

/* All keys hash to few buckets: long probe runs, deletions in the middle, wrap-around. */
static void
random_ops_match_reference(void **state)
{
    (void)state;
    enum { N = 512, KEYS = 2000, OPS = 200000 };
    char err[256];
    struct ft_table *t = ft_new(N, sizeof(struct flow) + 16, 9, err, sizeof(err));
    static struct flow *ref[KEYS];
    uint32_t live = 0;

    memset(ref, 0, sizeof(ref));
    for (int op = 0; op < OPS; op++) {
        uint32_t n = (uint32_t)(next_rand() % KEYS);
        struct flow_key k = key_of(n);
        /* Clustered hashes on purpose (only 64 distinct values) to stress probing. */
        uint32_t h = n % 64;
        struct flow *f = ft_lookup(t, &k, h);
        assert_ptr_equal(f, ref[n]);
        if (f != NULL) {
            ft_remove(t, f);
            ref[n] = NULL;
            live--;
        } else if (live < N) {
            f = ft_insert(t, &k, h);
            assert_non_null(f);
            ref[n] = f;
            live++;
        }
        assert_int_equal(ft_count(t), live);
    }
    for (uint32_t n = 0; n < KEYS; n++) {
        struct flow_key k = key_of(n);
        assert_ptr_equal(ft_lookup(t, &k, n % 64), ref[n]);
    }
    ft_free(t);
}

static void
bad_sizes_are_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(ft_new(0, sizeof(struct flow), 1, err, sizeof(err)));
    assert_non_null(strstr(err, "flow table"));
    assert_null(ft_new(10, 8, 1, err, sizeof(err)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_lookup_remove),
        cmocka_unit_test(full_table_refuses),
        cmocka_unit_test(creation_order),
        cmocka_unit_test(random_ops_match_reference),
        cmocka_unit_test(bad_sizes_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
