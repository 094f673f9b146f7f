// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library of 1208's own IFUNCs. pick() selects between two implementations
 * it computes itself (the resolver 1208 follows); loaded() returns a
 * pointer it reads from memory, so which code it selects cannot be known
 * from the library, and a fix of it is refused.
 */
#include <stdlib.h>

#include "kct.h"

KCT_PATCHABLE int pick_one(int x)
{
	return x * 3 + 1;
}

KCT_PATCHABLE int pick_two(int x)
{
	return x * 3 + 1 + 0 * x;
}

static int (*resolve_pick(void))(int)
{
	return getenv("KCT_PICK_TWO") ? pick_two : pick_one;
}

int pick(int x) __attribute__((ifunc("resolve_pick")));

int (*volatile loaded_impl)(int) = pick_one;

static int (*resolve_loaded(void))(int)
{
	return loaded_impl;
}

int loaded(int x) __attribute__((ifunc("resolve_loaded")));
