/* show — the tables `run` and `compare` print on stdout (full reports: `cimsim report`). */
#ifndef CS_SHOW_H
#define CS_SHOW_H

#include <stdio.h>

#include "result.h"

void cs_show_result(FILE *f, const cs_result *r);
/* "cause NN%": the attributed cause with the most cycles and its share. */
void cs_show_top_cause(const uint64_t attribution[CS_CAUSES], char *out, size_t n);

#endif
