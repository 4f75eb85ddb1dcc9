# What R's haven sees in framelab's SPSS and Stata exports (issue 24), made with
#   R 4.2.2 and haven 2.5.1 (Debian's r-cran-haven).
# Run from the repository root:  Rscript tests/reference/haven_exports.R
# Reads   tests/reference/haven_fixture.sav and tests/reference/haven_fixture.dta
#         (the fixture study of tests/exports/fixture_study.py, exported by `framelab export`)
# Writes  tests/reference/haven_output.csv: one row per fact, columns
#         file, what, position, value, count
#   what = class        class() of the arm column
#          levels       levels(haven::as_factor(arm)), in order
#          table        table(haven::as_factor(arm)): level and count (NA is not a level)
#          missing      sum(is.na(arm))
#          coefficient  names(coef(lm(post_support ~ haven::as_factor(arm))))
#          stratum      levels(haven::as_factor(stratum))
#          file_label   attr(data, "label") (the Stata data label; SPSS: none in haven)
# The suite never runs R: tests/exports/test_haven_reference.py checks these rows and
# that exports regenerated from the same fixture carry the same metadata as these files.
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
dir <- "tests/reference"
files <- c(
  sav = if (length(args) >= 1) args[1] else file.path(dir, "haven_fixture.sav"),
  dta = if (length(args) >= 2) args[2] else file.path(dir, "haven_fixture.dta")
)
out <- if (length(args) >= 3) args[3] else file.path(dir, "haven_output.csv")

rows <- list()
add <- function(file, what, position, value, count = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    file = file, what = what, position = position, value = value, count = count,
    stringsAsFactors = FALSE)
}
for (kind in names(files)) {
  d <- if (kind == "sav") read_sav(files[[kind]]) else read_dta(files[[kind]])
  arm <- as_factor(d$arm)
  add(kind, "class", 1, paste(class(d$arm), collapse = " "))
  for (i in seq_along(levels(arm))) add(kind, "levels", i, levels(arm)[i])
  counts <- table(arm)
  for (i in seq_along(counts)) add(kind, "table", i, names(counts)[i], as.integer(counts[i]))
  add(kind, "missing", 1, "NA", sum(is.na(d$arm)))
  fit <- lm(post_support ~ as_factor(arm), data = d)
  coefs <- names(coef(fit))
  for (i in seq_along(coefs)) add(kind, "coefficient", i, coefs[i])
  strata <- levels(as_factor(d$stratum))
  for (i in seq_along(strata)) add(kind, "stratum", i, strata[i])
  label <- attr(d, "label")
  if (!is.null(label)) add(kind, "file_label", 1, label)
}
write.csv(do.call(rbind, rows), out, row.names = FALSE)
