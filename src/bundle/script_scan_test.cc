#include "bundle/script_scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bundle/test_support.h"

namespace blockyard::bundle {
namespace {

using ::testing::ElementsAre;
using testing::TempDir;
using testing::write_text;

TEST(ScanRSource, FindsLibraryRequireAndNamespaceCalls) {
  const auto found = scan_r_source(R"(
library(shiny)
require("DT")
suppressPackageStartupMessages(library(package = "dplyr"))
if (!requireNamespace('jsonlite', quietly = TRUE)) stop()
x <- ggplot2::ggplot(data)
y <- data.table:::internal()
loadNamespace("R6")
)");
  EXPECT_THAT(found,
              ElementsAre("DT", "R6", "data.table", "dplyr", "ggplot2", "jsonlite", "shiny"));
}

TEST(ScanRSource, IgnoresCommentsStringsAndVariables) {
  const auto found = scan_r_source(R"R(
# library(commented)
msg <- "library(instring) and pkg::fun"
raw <- r"(library(rawstring))"
pkg <- "dynamic"
library(pkg, character.only = TRUE)
obj$library(notacall)
stats::median(1)   # base packages are not dependencies
library(utils)
`backquoted`::f()
)R");
  EXPECT_THAT(found, ElementsAre("backquoted"));
}

TEST(ScanAppScripts, WalksRFilesSkippingHiddenAndRenv) {
  TempDir dir;
  write_text(dir / "app.R", "library(shiny)\n");
  write_text(dir / "R" / "helpers.r", "DT::datatable(x)\n");
  write_text(dir / "notes.txt", "library(notR)\n");
  write_text(dir / ".hidden" / "x.R", "library(hidden)\n");
  write_text(dir / "renv" / "activate.R", "library(renvinternal)\n");
  EXPECT_THAT(scan_app_scripts(dir.path()), ElementsAre("DT", "shiny"));
}

}  // namespace
}  // namespace blockyard::bundle
