/* component — what every simulated component shares: a const type table and a base struct.
 *
 * An instance struct starts with a cs_component (so a pointer to either is a pointer to both).
 * The type table names the component kind, its energy class, and the hooks the system and the
 * watchdog use: dump (state for deadlock reports), busy (holds unfinished work: checked at the
 * end of every run), destroy. Components talk only through their ports (port.h), register
 * their statistics at creation, and never hold pointers to other components.
 */
#ifndef CS_COMPONENT_H
#define CS_COMPONENT_H

#include <stdbool.h>

#include "buf.h"
#include "engine.h"

typedef struct cs_component_type {
    const char *kind;          /* "hbm_channel", "l2_slice", ... */
    const char *energy_class;  /* class of its actions in energy tables ("dram"), or NULL */
    void (*dump)(const void *self, cs_buf *out);
    bool (*busy)(const void *self);
    void (*destroy)(void *self);
} cs_component_type;

typedef struct cs_component {
    const cs_component_type *type;
    char *name;      /* full dotted name, "gpu.hbm.ch07" (owned) */
    cs_engine *eng;
} cs_component;

/* Fills the base and registers the component with the engine for deadlock dumps. */
void cs_component_init(cs_component *c, const cs_component_type *type, const char *name,
                       cs_engine *eng);
/* Frees the base's name (the instance itself is freed by type->destroy). */
void cs_component_fini(cs_component *c);
static inline bool cs_component_busy(const cs_component *c)
{
    return c->type->busy && c->type->busy(c);
}
static inline void cs_component_destroy(cs_component *c)
{
    if (c)
        c->type->destroy(c);
}

#endif
