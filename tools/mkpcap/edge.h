/*
 * edge.h - the malformed-input corpus: one capture per edge case of the decoder (short,
 * truncated, odd and hostile packets around one good UDP flow), hand-written files libpcap must
 * read or refuse as they are, and the manifest.tsv the golden test checks them against.
 */
#ifndef MKPCAP_EDGE_H
#define MKPCAP_EDGE_H

#include <stddef.h>

/* Writes the corpus and DIR/manifest.tsv into dir (created if missing); 0 or a negative errno
 * with one line in err. */
int
gen_edge(const char *dir, char *err, size_t errlen);

#endif
