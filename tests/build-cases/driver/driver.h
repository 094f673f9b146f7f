/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every driver program of the corpus does (4001 copies this file into
 * each case's tree): line-buffered output for the test to read as it comes,
 * an alarm so that a forgotten driver does not outlive the test, and the
 * pace of its loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void drv_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
}

static void drv_sleep(void)
{
	usleep(10000);
}
