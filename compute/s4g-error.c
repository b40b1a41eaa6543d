/* s4g-error.c — filling the error record of s4g-error.h. */
#include "s4g-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int s4g_fail(s4g_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void s4g_err_clear(s4g_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

void s4g_err_prefix(s4g_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.400s: %.600s", pre, old);
}
