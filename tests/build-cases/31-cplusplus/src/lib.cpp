// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

namespace calc {
class Acc {
public:
	explicit Acc(int k) : k_(k) {}
	int add(int x)
	{
		v_.push_back(x * k_);
		int s = 0;
		for (int e : v_)
			s += e;
		v_.clear();
		return s + 1;
	}

private:
	int k_;
	std::vector<int> v_;
};
} // namespace calc

extern "C" int compute(int x)
{
	calc::Acc a(3);
	std::string s = "abc";

	return a.add(x) + (int)s.size();
}
