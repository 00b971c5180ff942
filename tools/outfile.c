/* outfile — atomic output for regular files, plain writes for special ones. */
#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"

bool cs_outfile_special(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}

cs_status cs_outfile_write(const char *path, const void *data, size_t len, cs_err *err)
{
    if (!cs_outfile_special(path))
        return cs_afile_write(path, data, len, err);
    FILE *f = fopen(path, "w");
    if (!f)
        return cs_err_add(err, CS_IO, "%s: error: cannot open for writing: %s", path,
                          strerror(errno));
    size_t n = fwrite(data, 1, len, f);
    int bad = n != len || ferror(f);
    if (fclose(f) != 0 || bad)
        return cs_err_add(err, CS_IO, "%s: error: cannot write: %s", path, strerror(errno));
    return CS_OK;
}
