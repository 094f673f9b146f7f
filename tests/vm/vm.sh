# SPDX-License-Identifier: GPL-2.0-or-later
# The VM harness in one line for a test: . "$KC_TOP/tests/vm/vm.sh" (after
# tests/integration/lib.sh, which sets KC_TOP and KC_BUILD). See README.md.
. "$KC_TOP/tests/vm/kernel.sh"
. "$KC_TOP/tests/vm/initramfs.sh"
. "$KC_TOP/tests/vm/run.sh"
