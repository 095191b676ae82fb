# blockyard dependency resolution: the first step of a restore, run by the
# server with `Rscript resolve.R IN OUT STORE` in a build sandbox (network to
# the repositories, the package store read-only at STORE).
#
# Reads IN/requirements.dcf (what the app asks for) and IN/repositories.dcf
# (where to look, in order, each with the store's source id), and writes
# OUT/plan.dcf: one record per package the app needs besides R's base
# packages, with where it comes from (the server's own R library, a
# repository, or a git commit), its version and its dependencies. Archived
# versions and git commits not yet in the store are downloaded to
# OUT/downloads so their DESCRIPTION can be read; the install step reuses
# them. No package code runs here.
#
# Failures print lines starting with "ERROR: " and exit with status 1.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3L) stop("usage: resolve.R IN OUT STORE")
in_dir <- args[[1L]]
out_dir <- args[[2L]]
store <- args[[3L]]
downloads <- file.path(out_dir, "downloads")
dir.create(downloads, showWarnings = FALSE, recursive = TRUE)
options(warn = 1, timeout = 300)

failures <- character()
fail <- function(msg) failures <<- c(failures, msg)
say <- function(...) cat(..., "\n", sep = "")

field <- function(rec, name) {
  v <- if (name %in% names(rec)) rec[[name]] else NA_character_
  if (is.na(v)) "" else trimws(v)
}

# Row i of a DCF matrix as a named list (m[i, ] loses the names of a
# one-column matrix).
row_list <- function(m, i = 1L) {
  r <- as.list(m[i, ])
  names(r) <- colnames(m)
  r
}

read_records <- function(path) {
  if (!file.exists(path) || file.size(path) == 0) return(list())
  m <- read.dcf(path, all = TRUE)
  lapply(seq_len(nrow(m)), function(i) row_list(m, i))
}

requirements <- read_records(file.path(in_dir, "requirements.dcf"))
repositories <- read_records(file.path(in_dir, "repositories.dcf"))

platform <- sprintf("%s.%s-%s", R.version$major, strsplit(R.version$minor, ".", fixed = TRUE)[[1L]][1L],
                    R.version$platform)
base_pkgs <- rownames(installed.packages(priority = "base"))
host <- installed.packages(lib.loc = .libPaths(), fields = c("Depends", "Imports", "LinkingTo"))
host <- host[!duplicated(host[, "Package"]), , drop = FALSE]
rownames(host) <- host[, "Package"]

# ---- version constraints ---------------------------------------------------

parse_deps <- function(text) {
  # "a (>= 1.0), b" -> list of list(package, op, version)
  if (is.null(text) || is.na(text) || !nzchar(trimws(text))) return(list())
  items <- trimws(strsplit(gsub("\n", " ", text), ",", fixed = TRUE)[[1L]])
  items <- items[nzchar(items)]
  lapply(items, function(item) {
    name <- trimws(sub("\\(.*$", "", item))
    op <- ""
    ver <- ""
    if (grepl("(", item, fixed = TRUE)) {
      inner <- trimws(sub("^[^(]*\\(([^)]*)\\).*$", "\\1", item))
      op <- sub("^([<>=!]+).*$", "\\1", inner)
      ver <- trimws(sub("^[<>=!]+", "", inner))
    }
    list(package = name, op = op, version = ver)
  })
}

satisfies <- function(version, constraint) {
  if (!nzchar(constraint$op)) return(TRUE)
  v <- package_version(version)
  w <- package_version(constraint$version)
  switch(constraint$op, ">=" = v >= w, ">" = v > w, "==" = v == w, "<=" = v <= w, "<" = v < w,
         "!=" = v != w, FALSE)
}

describe <- function(constraints) {
  parts <- vapply(constraints, function(c) {
    if (nzchar(c$op)) sprintf("(%s %s) required by %s", c$op, c$version, c$by) else
      sprintf("required by %s", c$by)
  }, "")
  paste(unique(parts), collapse = "; ")
}

# ---- repositories ------------------------------------------------------------

repo_urls <- vapply(repositories, field, "", "URL")
repo_names <- vapply(repositories, field, "", "Name")
repo_ids <- vapply(repositories, field, "", "Id")
repo_kinds <- vapply(repositories, field, "", "Kind")
indexes <- list()  # repository index (1-based) -> available.packages matrix or NULL
index_errors <- character()

repo_index <- function(i) {
  key <- as.character(i)
  if (!is.null(indexes[[key]]) || key %in% names(indexes)) return(indexes[[key]])
  url <- repo_urls[[i]]
  say("Fetching the package index of ", repo_names[[i]], " (", url, ")")
  ap <- tryCatch(
    suppressWarnings(available.packages(contriburl = contrib.url(url, "source"),
                                        filters = c("R_version", "OS_type", "subarch"))),
    error = function(e) NULL)
  if (is.null(ap) || nrow(ap) == 0L) {
    index_errors[[url]] <<- sprintf("%s (%s): no package index could be read", repo_names[[i]], url)
    say("  no package index at ", url)
    ap <- NULL
  }
  indexes[key] <<- list(ap)
  ap
}

# Repositories to search for a record, the preferred one first.
repo_order <- function(preferred = "", kind = "") {
  idx <- seq_along(repositories)
  if (nzchar(kind)) idx <- c(idx[repo_kinds[idx] == kind], idx[repo_kinds[idx] != kind])
  if (nzchar(preferred)) {
    hit <- idx[repo_names[idx] == preferred | repo_urls[idx] == sub("/+$", "", preferred)]
    idx <- c(hit, setdiff(idx, hit))
  }
  idx
}

download_to <- function(url, dest) {
  ok <- tryCatch({
    suppressWarnings(utils::download.file(url, dest, mode = "wb", quiet = TRUE))
    file.exists(dest) && file.size(dest) > 0
  }, error = function(e) FALSE)
  if (!ok) unlink(dest)
  ok
}

# DESCRIPTION of an installed copy already in the store (any configuration).
store_description <- function(pkg, version, source_id) {
  dir <- file.path(store, platform, pkg, if (nzchar(version)) version else "*")
  hits <- Sys.glob(file.path(dir, paste0(source_id, "-*"), pkg, "DESCRIPTION"))
  if (length(hits) == 0L) return(NULL)
  row_list(read.dcf(hits[[1L]]))
}

tarball_description <- function(tarball, pkg) {
  exdir <- tempfile("desc")
  ok <- tryCatch({
    utils::untar(tarball, files = paste0(pkg, "/DESCRIPTION"), exdir = exdir)
    TRUE
  }, error = function(e) FALSE, warning = function(w) FALSE)
  path <- file.path(exdir, pkg, "DESCRIPTION")
  if (!ok || !file.exists(path)) return(NULL)
  row_list(read.dcf(path))
}

# ---- candidates ----------------------------------------------------------------

# A repository package: current version from the index, or an archived one.
repository_candidate <- function(pkg, version, constraints, preferred = "", kind = "") {
  seen <- character()
  # A pinned version already in the store needs no index and no download.
  if (nzchar(version)) {
    for (i in repo_order(preferred, kind)) {
      desc <- store_description(pkg, version, repo_ids[[i]])
      if (is.null(desc)) next
      return(list(Package = pkg, Version = version, Origin = "repository",
                  Repository = repo_names[[i]], RepositoryURL = repo_urls[[i]],
                  SourceId = repo_ids[[i]],
                  Download = sprintf("%s/src/contrib/%s_%s.tar.gz", repo_urls[[i]], pkg, version),
                  Depends = desc$Depends, Imports = desc$Imports, LinkingTo = desc$LinkingTo,
                  NeedsCompilation = desc$NeedsCompilation))
    }
  }
  for (i in repo_order(preferred, kind)) {
    ap <- repo_index(i)
    if (!is.null(ap) && pkg %in% ap[, "Package"]) {
      rows <- ap[ap[, "Package"] == pkg, , drop = FALSE]
      for (r in seq_len(nrow(rows))) {
        v <- rows[r, "Version"]
        seen <- c(seen, sprintf("%s has %s", repo_names[[i]], v))
        ok <- if (nzchar(version)) package_version(v) == package_version(version) else
          all(vapply(constraints, satisfies, TRUE, version = v))
        if (ok) {
          return(list(Package = pkg, Version = v, Origin = "repository",
                      Repository = repo_names[[i]], RepositoryURL = repo_urls[[i]],
                      SourceId = repo_ids[[i]],
                      Download = sprintf("%s/%s_%s.tar.gz", rows[r, "Repository"], pkg, v),
                      Depends = rows[r, "Depends"], Imports = rows[r, "Imports"],
                      LinkingTo = rows[r, "LinkingTo"],
                      NeedsCompilation = rows[r, "NeedsCompilation"]))
        }
      }
    }
    if (!nzchar(version)) next
    # Exact versions that are no longer current live in src/contrib/Archive.
    desc <- store_description(pkg, version, repo_ids[[i]])
    url <- sprintf("%s/src/contrib/Archive/%s/%s_%s.tar.gz", repo_urls[[i]], pkg, pkg, version)
    tarball <- ""
    if (is.null(desc)) {
      file <- sprintf("%s_%s.tar.gz", pkg, version)
      if (download_to(url, file.path(downloads, file))) {
        desc <- tarball_description(file.path(downloads, file), pkg)
        tarball <- file.path("downloads", file)
      }
    }
    if (!is.null(desc)) {
      return(list(Package = pkg, Version = version, Origin = "repository",
                  Repository = repo_names[[i]], RepositoryURL = repo_urls[[i]],
                  SourceId = repo_ids[[i]], Download = url, Tarball = tarball, Archived = "yes",
                  Depends = desc$Depends, Imports = desc$Imports, LinkingTo = desc$LinkingTo,
                  NeedsCompilation = desc$NeedsCompilation))
    }
  }
  attr(seen, "failed") <- TRUE
  seen
}

git_candidate <- function(req) {
  pkg <- field(req, "Package")
  url <- field(req, "GitUrl")
  sha <- field(req, "GitSha")
  subdir <- field(req, "GitSubdir")
  if (!nzchar(sha)) {
    ref <- field(req, "GitRef")
    out <- suppressWarnings(system2("git", c("ls-remote", shQuote(url), if (nzchar(ref)) shQuote(ref) else "HEAD"),
                                    stdout = TRUE, stderr = TRUE))
    sha <- sub("\t.*$", "", out[grepl("^[0-9a-f]{40}\t", out)][1L])
    if (is.na(sha)) return(sprintf("git repository %s has no ref %s", url, if (nzchar(ref)) ref else "HEAD"))
  }
  source_id <- paste0("git-", sha, if (nzchar(subdir)) paste0("-", gsub("[^A-Za-z0-9]", "_", subdir)) else "")
  desc <- store_description(pkg, "", source_id)
  checkout <- ""
  if (is.null(desc)) {
    checkout <- file.path("downloads", paste0(pkg, "-", sha))
    dest <- file.path(out_dir, checkout)
    status <- system2("git", c("clone", "--quiet", shQuote(url), shQuote(dest)))
    if (status == 0L) status <- system2("git", c("-C", shQuote(dest), "checkout", "--quiet", sha))
    if (status != 0L) return(sprintf("cannot check out commit %s of %s", sha, url))
    unlink(file.path(dest, ".git"), recursive = TRUE)
    path <- file.path(dest, subdir, "DESCRIPTION")
    if (!file.exists(path)) return(sprintf("%s has no DESCRIPTION at commit %s", url, sha))
    desc <- row_list(read.dcf(path))
    if (!identical(desc$Package, pkg))
      return(sprintf("%s at commit %s holds package %s, not %s", url, sha, desc$Package, pkg))
  }
  list(Package = pkg, Version = desc$Version, Origin = "git", SourceId = source_id,
       GitUrl = url, GitSha = sha, GitSubdir = subdir, Tarball = checkout,
       Depends = desc$Depends, Imports = desc$Imports, LinkingTo = desc$LinkingTo,
       NeedsCompilation = desc$NeedsCompilation)
}

host_candidate <- function(pkg) {
  list(Package = pkg, Version = host[pkg, "Version"], Origin = "host", LibPath = host[pkg, "LibPath"],
       Depends = host[pkg, "Depends"], Imports = host[pkg, "Imports"], LinkingTo = host[pkg, "LinkingTo"])
}

# ---- resolution --------------------------------------------------------------------

pins <- list()        # package -> requirement record with an exact version or a git source
constraints <- list() # package -> list of constraints (with $by)
plan <- list()        # package -> chosen candidate
queue <- character()

add_constraint <- function(pkg, op, version, by) {
  if (pkg %in% base_pkgs || pkg == "R") return()
  constraints[[pkg]] <<- c(constraints[[pkg]], list(list(op = op, version = version, by = by)))
  if (!is.null(plan[[pkg]])) {
    ok <- all(vapply(constraints[[pkg]], satisfies, TRUE, version = plan[[pkg]]$Version))
    if (ok) return()
    if (!is.null(pins[[pkg]])) {
      fail(sprintf("package %s: the app pins %s, but %s", pkg, plan[[pkg]]$Version, describe(constraints[[pkg]])))
      return()
    }
    plan[[pkg]] <<- NULL  # choose again with every constraint known
  }
  queue <<- unique(c(queue, pkg))
}

for (req in requirements) {
  pkg <- field(req, "Package")
  if (nzchar(field(req, "Version")) || field(req, "Source") == "git") pins[[pkg]] <- req
  op <- sub("^([<>=!]*).*$", "\\1", field(req, "Constraint"))
  add_constraint(pkg, op, trimws(sub("^[<>=!]*", "", field(req, "Constraint"))), "the app")
}

choose <- function(pkg) {
  pin <- pins[[pkg]]
  cons <- constraints[[pkg]]
  if (!is.null(pin) && field(pin, "Source") == "git") return(git_candidate(pin))
  version <- if (is.null(pin)) "" else field(pin, "Version")
  in_host <- pkg %in% rownames(host)
  if (in_host) {
    hv <- host[pkg, "Version"]
    ok <- if (nzchar(version)) package_version(hv) == package_version(version) else
      all(vapply(cons, satisfies, TRUE, version = hv))
    if (ok) return(host_candidate(pkg))
  }
  kind <- if (!is.null(pin) && field(pin, "Source") == "Bioconductor") "bioc" else ""
  found <- repository_candidate(pkg, version, cons, if (is.null(pin)) "" else field(pin, "Repository"), kind)
  if (is.list(found)) return(found)
  have <- c(if (in_host) sprintf("the server's library has %s", host[pkg, "Version"]), found)
  if (length(have) == 0L) {
    unreachable <- if (length(index_errors)) paste0(" (unreadable: ", paste(index_errors, collapse = "; "), ")") else ""
    return(sprintf("package %s is not available from any repository%s [%s]", pkg, unreachable, describe(cons)))
  }
  wanted <- if (nzchar(version)) sprintf("version %s", version) else describe(cons)
  sprintf("package %s: %s is not available (%s)", pkg, wanted, paste(have, collapse = ", "))
}

while (length(queue) > 0L) {
  pkg <- queue[[1L]]
  queue <- queue[-1L]
  if (!is.null(plan[[pkg]])) next
  candidate <- choose(pkg)
  if (is.character(candidate)) {
    fail(candidate[[1L]])
    next
  }
  candidate$Requested <- if (!is.null(constraints[[pkg]]) &&
                             any(vapply(constraints[[pkg]], function(c) c$by == "the app", TRUE))) "yes" else "no"
  plan[[pkg]] <- candidate
  for (fieldname in c("Depends", "Imports", "LinkingTo")) {
    for (dep in parse_deps(candidate[[fieldname]])) {
      add_constraint(dep$package, dep$op, dep$version, sprintf("%s %s", pkg, candidate$Version))
    }
  }
}

if (length(failures) > 0L) {
  for (f in unique(failures)) say("ERROR: ", f)
  quit(status = 1L)
}

# ---- output --------------------------------------------------------------------------

dep_names <- function(c) {
  names <- unlist(lapply(c(parse_deps(c$Depends), parse_deps(c$Imports), parse_deps(c$LinkingTo)),
                         function(d) d$package))
  paste(sort(unique(setdiff(names, c(base_pkgs, "R")))), collapse = ", ")
}
link_names <- function(c) {
  names <- unlist(lapply(parse_deps(c$LinkingTo), function(d) d$package))
  paste(sort(unique(setdiff(names, c(base_pkgs, "R")))), collapse = ", ")
}
keep <- c("Package", "Version", "Origin", "Requested", "LibPath", "Repository", "RepositoryURL",
          "SourceId", "Download", "Tarball", "Archived", "GitUrl", "GitSha", "GitSubdir",
          "NeedsCompilation")
records <- lapply(plan[sort(names(plan))], function(c) {
  r <- c[intersect(keep, names(c))]
  r$Dependencies <- dep_names(c)
  r$LinkingTo <- link_names(c)
  r <- lapply(r, function(v) if (is.null(v) || is.na(v)) "" else gsub("\n", " ", as.character(v)))
  r[nzchar(unlist(r))]
})
lines <- as.character(unlist(lapply(records, function(r) c(sprintf("%s: %s", names(r), unlist(r)), ""))))
writeLines(c(sprintf("Platform: %s", platform), sprintf("RVersion: %s", getRversion()), ""),
           file.path(out_dir, "platform.dcf"))
writeLines(lines, file.path(out_dir, "plan.dcf"))
# The packages the app named, and every one that does not come with the
# server's R (the others are counted by the server).
for (r in records) {
  if (r$Origin == "host" && !identical(r$Requested, "yes")) next
  from <- switch(r$Origin, host = "the server's R library", git = paste("git", r$GitUrl),
                 paste(r$Repository, if (identical(r$Archived, "yes")) "(archive)" else ""))
  say(sprintf("  %s %s: %s", r$Package, r$Version, trimws(from)))
}
