/*
 * mkregistry.c - writes nfprobe's published element registry (templates/) from the field
 * catalogue (probe/fields.def) and nfprobe's elements (probe/ie.def).
 *
 *   mkregistry xml [PEN]     libfixbuf XML, for `ipfixDump --element-file` (IANA registry schema
 *                            with cert:enterpriseId and cert:reversible)
 *   mkregistry iespec [PEN]  python3-ipfix spec lines, name(pen/id)<type>[length]
 *   mkregistry tmpl          default.tmpl: every exported field, in the default order
 *
 * PEN defaults to 32473 (RFC 5612 documentation PEN); give the registered one to publish a
 * registry for it. `make registry` regenerates the committed files; check_registry.sh compares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_ipfix.h"

static void
xml_text(const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", stdout);
            break;
        case '<':
            fputs("&lt;", stdout);
            break;
        case '>':
            fputs("&gt;", stdout);
            break;
        default:
            putchar(*s);
        }
    }
}

static uint32_t
pen_of(const struct ipfix_ie_def *d, uint32_t pen)
{
    return d->ntop ? NFP_PEN_NTOP : pen;
}

static void
write_xml(uint32_t pen)
{
    printf("<?xml version='1.0' encoding='UTF-8'?>\n"
           "<!-- Generated from probe/ie.def and probe/fields.def by tools/mkregistry: "
           "do not edit. -->\n"
           "<registry id=\"nfprobe_ipfix\"\n"
           "          xmlns=\"http://www.iana.org/assignments\"\n"
           "          xmlns:cert=\"http://www.cert.org/ipfix\">\n\n"
           "  <title>nfprobe IPFIX elements</title>\n\n"
           "  <registry id=\"nfprobe-information-elements\">\n"
           "    <title>nfprobe elements (PEN %u) and the ntop elements it exports (PEN %u)"
           "</title>\n",
           pen, NFP_PEN_NTOP);
    for (size_t i = 0; i < ipfix_n_ie_defs; i++) {
        const struct ipfix_ie_def *d = &ipfix_ie_defs[i];
        printf("\n    <record>\n      <name>%s</name>\n      <dataType>%s</dataType>\n", d->name,
               d->type);
        if (strcmp(d->semantics, "default") != 0)
            printf("      <dataTypeSemantics>%s</dataTypeSemantics>\n", d->semantics);
        if (strcmp(d->units, "none") != 0)
            printf("      <units>%s</units>\n", d->units);
        if (d->reversible)
            printf("      <cert:reversible>true</cert:reversible>\n");
        printf("      <cert:enterpriseId>%u</cert:enterpriseId>\n"
               "      <elementId>%u</elementId>\n"
               "      <description>\n        <paragraph>",
               pen_of(d, pen), d->id);
        xml_text(d->description);
        printf("</paragraph>\n      </description>\n    </record>\n");
    }
    printf("  </registry>\n</registry>\n");
}

static void
iespec_line(const char *prefix, const char *name, uint32_t pen, unsigned id, const char *type)
{
    /* python3-ipfix has no basicList type: it reads a list as its raw octets. */
    const char *t = strcmp(type, "basicList") == 0 ? "octetArray" : type;
    unsigned len = strcmp(t, "unsigned8") == 0 || strcmp(t, "signed8") == 0 ? 1
                   : strcmp(t, "unsigned16") == 0                          ? 2
                   : strcmp(t, "unsigned32") == 0                          ? 4
                   : strcmp(t, "unsigned64") == 0 || strcmp(t, "float64") == 0 ||
                           strcmp(t, "dateTimeMilliseconds") == 0
                       ? 8
                       : 65535;

    if (prefix[0] != '\0')
        printf("%s%c%s(%u/%u)<%s>[%u]\n", prefix, name[0] - 'a' + 'A', name + 1, pen, id, t, len);
    else
        printf("%s(%u/%u)<%s>[%u]\n", name, pen, id, t, len);
}

static void
write_iespec(uint32_t pen)
{
    /* No comment lines: python3-ipfix 0.9.7 takes every line for a spec. */
    for (size_t i = 0; i < ipfix_n_ie_defs; i++) {
        const struct ipfix_ie_def *d = &ipfix_ie_defs[i];
        iespec_line("", d->name, pen_of(d, pen), d->id, d->type);
        if (d->reversible)
            iespec_line("reverse", d->name, pen_of(d, pen), d->id | NFP_REVERSE_BIT, d->type);
    }
}

static const char *
groups_text(uint32_t g)
{
    static char buf[320];

    buf[0] = '\0';
    if (g & NFP_G_V4)
        strcat(buf, " IPv4 template only");
    if (g & NFP_G_V6)
        strcat(buf, " IPv6 template only");
    if (g & NFP_G_TUNNEL)
        strcat(buf, " with tunnel decoding (default on)");
    if (g & NFP_G_STATS)
        strcat(buf, " with --statistical-analysis");
    if (g & NFP_G_SPLT)
        strcat(buf, " with --splt-analysis N");
    if (g & NFP_G_L7)
        strcat(buf, " with DPI (--n-dissections > 0)");
    if (g & NFP_G_NTOP)
        strcat(buf, " with --ntop-compat");
    if (g & NFP_G_AS)
        strcat(buf, " with --networks-file or --asn-database");
    if (g & NFP_G_PREFIX)
        strcat(buf, " with --networks-file, --asn-database or --route-lookup");
    if (g & NFP_G_ROUTE)
        strcat(buf, " with --route-lookup");
    if (g & NFP_G_DIRECTION)
        strcat(buf, " with --local-networks");
    return buf;
}

static void
write_tmpl(void)
{
    printf("# default.tmpl - every field nfprobe exports, in the default order.\n"
           "# Generated from probe/ie.def and probe/fields.def by tools/mkregistry: "
           "do not edit this copy.\n"
           "# To choose fields, copy it, delete or reorder lines and run nfprobe with\n"
           "# --ipfix-template FILE (templates/README.md). A field is sent only when the\n"
           "# option after its '#' is on; the IPv4 and IPv6 templates share the rest.\n");
    uint16_t order[256];
    size_t n = ipfix_n_fields <= 256 ? ipfix_default_order(order) : 0;

    for (size_t i = 0; i < n; i++) {
        const struct ipfix_field *f = &ipfix_fields[order[i]];
        uint32_t g = f->groups & ~(uint32_t)FLD_G_ROUTER; /* every exporting run has those */
        if (g != 0)
            printf("%-36s #%s\n", f->element, groups_text(g));
        else
            printf("%s\n", f->element);
    }
}

int
main(int argc, char **argv)
{
    uint32_t pen = NFP_PEN_DEFAULT;

    if (argc == 3) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);
        if (*end != '\0' || n == 0 || n > UINT32_MAX) {
            fprintf(stderr, "mkregistry: bad PEN '%s'\n", argv[2]);
            return 2;
        }
        pen = (uint32_t)n;
    }
    if (argc >= 2 && argc <= 3 && strcmp(argv[1], "xml") == 0)
        write_xml(pen);
    else if (argc >= 2 && argc <= 3 && strcmp(argv[1], "iespec") == 0)
        write_iespec(pen);
    else if (argc == 2 && strcmp(argv[1], "tmpl") == 0)
        write_tmpl();
    else {
        fprintf(stderr, "usage: mkregistry xml|iespec [PEN] | mkregistry tmpl\n");
        return 2;
    }
    return ferror(stdout) ? 1 : 0;
}
