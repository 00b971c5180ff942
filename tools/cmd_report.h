/* cmd_report — `cimsim report RESULT.json... [--format F] [-o FILE] [--plot [KIND:]FILE]`:
 * tables (text, JSON, CSV, Markdown, LaTeX) and plots of result and compare files
 * (tools/report.h; docs/report.md). */
#ifndef CS_CMD_REPORT_H
#define CS_CMD_REPORT_H

int cs_cmd_report(int argc, char **argv);

#endif
