/* show — the tables `run` and `compare` print on stdout (full reports: `cimsim report`). */
#ifndef CS_SHOW_H
#define CS_SHOW_H

#include <stdio.h>

#include "result.h"

void cs_show_result(FILE *f, const cs_result *r);

#endif
