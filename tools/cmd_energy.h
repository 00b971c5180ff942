/* cmd_energy — `cimsim energy show|export|import`: print an energy/area table with its sources,
 * write it as Accelergy ERT/ART files, build one from Accelergy output (tools/accelergy.h). */
#ifndef CS_CMD_ENERGY_H
#define CS_CMD_ENERGY_H

int cs_cmd_energy(int argc, char **argv);

#endif
