/* s4g-vk-device.h — the Vulkan side of device discovery; the device list and choice are
 * public in s4g-devices.h (shown by `s4g info`). */
#ifndef S4G_VK_DEVICE_H
#define S4G_VK_DEVICE_H

#include "../s4g-devices.h"

#endif
