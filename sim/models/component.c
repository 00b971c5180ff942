/* component — base initialisation. */
#include "component.h"

#include "alloc.h"

static void dump_hook(const void *ctx, cs_buf *out)
{
    const cs_component *c = ctx;
    if (c->type->dump)
        c->type->dump(c, out);
    else
        cs_buf_puts(out, c->type->kind);
}

void cs_component_init(cs_component *c, const cs_component_type *type, const char *name,
                       cs_engine *eng)
{
    c->type = type;
    c->name = cs_strdup(name);
    c->eng = eng;
    cs_engine_add_unit(eng, name, c, dump_hook);
}

void cs_component_fini(cs_component *c)
{
    cs_free(c->name);
    c->name = NULL;
}
