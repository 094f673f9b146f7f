// SPDX-License-Identifier: GPL-2.0-or-later
int ext(int x);

int compute(int x)
{
	switch (x % 6) {
	case 0:
		return ext(x) + 1;
	case 1:
		return ext(x * 2);
	case 2:
		return ext(x) - 3;
	case 3:
		return ext(x + 5) * 2;
	case 4:
		return ext(x ^ 3);
	case 5:
		return x;
	}
	return 0;
}
