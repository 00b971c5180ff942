/* cmd_validate — `cimsim validate`: the model set beside published figures; regenerates
 * docs/validation.md. */
#ifndef CS_CMD_VALIDATE_H
#define CS_CMD_VALIDATE_H

int cs_cmd_validate(int argc, char **argv);

#endif
