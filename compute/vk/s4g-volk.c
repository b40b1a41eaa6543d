/* s4g-volk.c — the one translation unit that compiles volk (Debian ships it as source only).
 * volk dlopen()s libvulkan.so.1 at run time, so nothing links -lvulkan. */
#define VOLK_IMPLEMENTATION
#include <volk.h>
