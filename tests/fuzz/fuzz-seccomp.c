// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the seccomp BPF interpreter on arbitrary programs (filters come from targets).
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "upatch/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_data sd;
	struct sock_filter insns[512];
	size_t n;

	if (size < sizeof(sd))
		return 0;
	memcpy(&sd, data, sizeof(sd));
	n = (size - sizeof(sd)) / sizeof(insns[0]);
	if (n > 512)
		n = 512;
	memcpy(insns, data + sizeof(sd), n * sizeof(insns[0]));
	(void)kc_seccomp_run(insns, n, &sd);
	return 0;
}
