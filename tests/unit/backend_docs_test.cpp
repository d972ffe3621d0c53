// Each backend's README.md documents its config keys in a table under "## Config keys"; this test
// checks that the table lists exactly the keys the backend reports (BackendInfo::option_keys, the
// constant its option parser reads), so the documentation cannot drift from the code.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "backends/builtin.hpp"
#include "dkdata/factory.hpp"

namespace dkdata {
namespace {

// The `keys` in the first column of the table under "## Config keys" (a cell may hold several:
// "`vector_enabled`, `vector_metric`").
std::set<std::string> DocumentedKeys(const std::string& readme_path) {
  std::ifstream file(readme_path);
  EXPECT_TRUE(file) << "cannot read " << readme_path;
  std::set<std::string> keys;
  bool in_section = false;
  std::string line;
  while (std::getline(file, line)) {
    if (line.starts_with("## ")) {
      in_section = line == "## Config keys";
      continue;
    }
    if (!in_section || !line.starts_with("| `")) continue;
    const std::string cell = line.substr(1, line.find('|', 1) - 1);
    for (std::size_t open = cell.find('`'); open != std::string::npos;) {
      const std::size_t close = cell.find('`', open + 1);
      if (close == std::string::npos) break;
      keys.insert(cell.substr(open + 1, close - open - 1));
      open = cell.find('`', close + 1);
    }
  }
  return keys;
}

std::string Join(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) out += (out.empty() ? "" : ", ") + key;
  return out;
}

TEST(BackendDocsTest, EachReadmeListsExactlyTheBackendsKeys) {
  int checked = 0;
  // The backends of this build (src/backends/builtin.hpp); one built without its dependency has
  // no keys to compare.
  for (const BackendInfo& built_in : internal::BuiltinBackends()) {
    const BackendInfo* info = &built_in;
    if (!info->available) continue;
    SCOPED_TRACE(info->name);
    EXPECT_FALSE(info->option_keys.empty()) << "a built-in backend publishes its option keys";
    const std::set<std::string> reported(info->option_keys.begin(), info->option_keys.end());
    EXPECT_EQ(reported.size(), info->option_keys.size()) << "a key is listed twice";
    const std::string readme =
        std::string(DKDATA_SOURCE_DIR) + "/src/backends/" + info->name + "/README.md";
    const std::set<std::string> documented = DocumentedKeys(readme);
    std::vector<std::string> missing;
    std::vector<std::string> extra;
    std::set_difference(reported.begin(), reported.end(), documented.begin(), documented.end(),
                        std::back_inserter(missing));
    std::set_difference(documented.begin(), documented.end(), reported.begin(), reported.end(),
                        std::back_inserter(extra));
    EXPECT_EQ(Join(missing), "") << "keys the backend takes but " << readme << " does not document";
    EXPECT_EQ(Join(extra), "") << "keys " << readme << " documents but the backend does not take";
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

}  // namespace
}  // namespace dkdata
