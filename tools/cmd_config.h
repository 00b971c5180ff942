/* cmd_config — `cimsim config check|dump|describe`. */
#ifndef CS_CMD_CONFIG_H
#define CS_CMD_CONFIG_H

int cs_cmd_config(int argc, char **argv);

#endif
