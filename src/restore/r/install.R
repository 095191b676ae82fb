# blockyard package installation: one package per run, in its own build
# sandbox, started by the server as
#   Rscript install.R PACKAGE VERSION SOURCE OUT
# SOURCE is a URL to download the source tarball from, or a path (a tarball
# or a package directory) that the resolve step already fetched. The package
# is installed into the library OUT; its dependencies are on R_LIBS (links
# into the package store) or in the server's own R library.
#
# Failures print a line starting with "ERROR: " and exit with status 1.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4L) stop("usage: install.R PACKAGE VERSION SOURCE OUT")
pkg <- args[[1L]]
version <- args[[2L]]
source <- args[[3L]]
out <- args[[4L]]
options(warn = 1, timeout = 600)

die <- function(...) {
  cat("ERROR: ", ..., "\n", sep = "")
  quit(status = 1L)
}

if (grepl("^(https?|file)://", source)) {
  cat("Downloading ", source, "\n", sep = "")
  tarball <- file.path(tempdir(), basename(source))
  fetch <- function(url) tryCatch({
    suppressWarnings(utils::download.file(url, tarball, mode = "wb", quiet = TRUE))
    file.exists(tarball) && file.size(tarball) > 0
  }, error = function(e) FALSE)
  ok <- fetch(source)
  # A version planned from the store may have been archived since.
  archived <- sub("/src/contrib/([^/]+)_([^/_]+)\\.tar\\.gz$", "/src/contrib/Archive/\\1/\\1_\\2.tar.gz", source)
  if (!ok && archived != source) {
    cat("Not at ", source, "; trying ", archived, "\n", sep = "")
    ok <- fetch(archived)
  }
  if (!ok) die(sprintf("package %s %s: download of %s failed", pkg, version, source))
  source <- tarball
} else if (dir.exists(source)) {
  # R CMD INSTALL builds a directory in place; the original is read-only.
  copy <- file.path(tempdir(), "src")
  dir.create(copy)
  file.copy(source, copy, recursive = TRUE)
  source <- file.path(copy, basename(source))
}

cat("Installing ", pkg, " ", version, "\n", sep = "")
r <- file.path(R.home("bin"), "R")
status <- system2(r, c("CMD", "INSTALL", "--no-html", "--no-multiarch", paste0("--library=", shQuote(out)),
                       shQuote(source)))
if (status != 0L) die(sprintf("package %s %s failed to install (R CMD INSTALL exit status %d)", pkg, version, status))
installed <- file.path(out, pkg, "DESCRIPTION")
if (!file.exists(installed)) die(sprintf("package %s %s: R CMD INSTALL left no %s", pkg, version, installed))
got <- unname(read.dcf(installed, fields = "Version")[1L, 1L])
if (!identical(as.character(got), version)) die(sprintf("package %s: expected version %s, the source holds %s", pkg, version, got))
