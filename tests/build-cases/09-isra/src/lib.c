// SPDX-License-Identifier: GPL-2.0-or-later
struct cfg {
	int a, b, c, d;
	char name[32];
};

static __attribute__((noinline)) int weigh(const struct cfg *c, int x)
{
	return c->b * x + (c->b ^ x) + 7;
}

int compute(int x)
{
	struct cfg c = {1, 2, 3, 4, "x"};

	c.b = x & 3;
	return weigh(&c, x) + weigh(&c, x + 1);
}
