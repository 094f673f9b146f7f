// SPDX-License-Identifier: GPL-2.0-or-later
int code(int x)
{
	switch (x & 7) {
	case 0:
		return 11;
	case 1:
		return 23;
	case 2:
		return 35;
	case 3:
		return 47;
	case 4:
		return 59;
	case 5:
		return 61;
	case 6:
		return 73;
	default:
		return 85;
	}
}
