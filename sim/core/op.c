/* op — names of op kinds and data types. */
#include "op.h"

#include <string.h>

static const char *const kind_names[] = {
#define CS_X(name, str) str,
    CS_OP_KIND_MAP(CS_X)
#undef CS_X
};

const char *cs_op_kind_name(int kind)
{
    return kind >= 0 && kind < CS_OP_KIND_COUNT ? kind_names[kind] : "?";
}

int cs_op_kind_from_name(const char *name)
{
    for (int i = 0; i < CS_OP_KIND_COUNT; i++)
        if (strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

const char *cs_dtype_name(int dtype)
{
    return dtype == CS_DTYPE_INT8 ? "int8" : dtype == CS_DTYPE_FP16 ? "fp16" : "?";
}

int cs_dtype_bytes(int dtype)
{
    return dtype == CS_DTYPE_FP16 ? 2 : 1;
}
