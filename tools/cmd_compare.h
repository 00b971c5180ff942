/* cmd_compare — `cimsim compare`, the main job: the baseline and every requested CiM
 * primitive x level on one workload, side by side. */
#ifndef CS_CMD_COMPARE_H
#define CS_CMD_COMPARE_H

int cs_cmd_compare(int argc, char **argv);

#endif
