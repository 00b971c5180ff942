/* yamlsafe — the checks a YAML file from elsewhere passes before libyaml builds a document of
 * it and cimsim walks that document (`cimsim energy import`).
 *
 * libyaml 0.2.5 has no limits of its own: its scanner does work proportional to the flow
 * nesting depth for every token (a file of 300 KiB of "{a: " runs for minutes), its composer
 * recurses once per level, and aliases let a small file stand for an enormous tree (a "billion
 * laughs" document), which a walk over the tree would expand. cs_yamlsafe_scan reads the event
 * stream once, before the document is built, and refuses nesting deeper than
 * CS_YAMLSAFE_MAX_DEPTH and aliases that expand the document beyond a small multiple of its
 * own size. cs_yamlsafe_dup_keys refuses a mapping that gives a key twice (libyaml keeps both
 * and a lookup would silently take the first).
 *
 * Not responsible for: syntax errors (the document load reports them with their line), the
 * meaning of the document.
 */
#ifndef CS_YAMLSAFE_H
#define CS_YAMLSAFE_H

#include <stddef.h>
#include <yaml.h>

#include "err.h"

enum { CS_YAMLSAFE_MAX_DEPTH = 64 };

/* CS_OK, or CS_FORMAT with "PATH:LINE: error: YAML: ..." for a document too deep or whose
 * aliases expand it too far. A syntax error is left to the document load (CS_OK). */
cs_status cs_yamlsafe_scan(const char *path, const unsigned char *text, size_t len, cs_err *err);
/* CS_OK, or CS_FORMAT with one message per duplicated key (at the duplicate's line). */
cs_status cs_yamlsafe_dup_keys(const char *path, yaml_document_t *doc, cs_err *err);

#endif
