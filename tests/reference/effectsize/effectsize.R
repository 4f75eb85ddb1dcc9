# Reference values for analysis.effect_size.effect_sizes: Cohen's d and Hedges' g with
# noncentral-t confidence intervals, from R's effectsize package (pooled SD, the default).
# Produced with R 4.2.2 and effectsize 0.8.3 (Debian bookworm: r-base-core, r-cran-effectsize);
# the versions used are also written into every row (r_version, effectsize_version).
#
# Run from the repository root, after  .venv/bin/python tests/reference/effectsize/make_data.py:
#   Rscript tests/reference/effectsize/effectsize.R
# Writes next to this script:
#   sleep.csv, toothgrowth.csv, mtcars.csv, plantgrowth.csv  (R's built-in datasets, so the
#       test suite never needs R)
#   effectsize_reference.csv  one row per dataset x arm x method (cohens_d, hedges_g) x ci,
#       with the exact R call in the `call` column. write.csv keeps 15 significant digits.
#   fallback_reference.csv  the normal-approximation interval (Hedges & Olkin 1985, eq. 5.14)
#       for degenerate.csv, where effect_sizes cannot invert the noncentral t; effectsize's
#       own interval there (from pt()'s normal approximation) is kept for comparison.
#
# Columns: estimate, conf_low, conf_high are effectsize's own output. effectsize 0.8.3 finds
# the noncentrality bounds with optim() (Nelder-Mead, abstol = 1e-9 on the tail
# probabilities), which stops within about 1e-7 of the root; conf_low_exact and
# conf_high_exact solve the same equations, pt(t, df, ncp) = 1 - a/2 and a/2, with
# uniroot(tol = 1e-13), and are the bounds effectsize aims at.
suppressPackageStartupMessages(library(effectsize))
dir <- "tests/reference/effectsize"

write.csv(sleep, file.path(dir, "sleep.csv"), row.names = FALSE)
write.csv(ToothGrowth, file.path(dir, "toothgrowth.csv"), row.names = FALSE)
write.csv(data.frame(model = rownames(mtcars), mtcars), file.path(dir, "mtcars.csv"),
          row.names = FALSE)
write.csv(PlantGrowth, file.path(dir, "plantgrowth.csv"), row.names = FALSE)
rd <- function(name) read.csv(file.path(dir, name), stringsAsFactors = FALSE)
synthetic <- rd("synthetic.csv")
synthetic_large <- rd("synthetic_large.csv")
tiny <- rd("tiny.csv")
tiny_df1 <- rd("tiny_df1.csv")

# dataset name (as used in the call), its data, file, outcome, arm column, control
specs <- list(
  list("sleep", sleep, "sleep.csv", "extra", "group", "1"),
  list("ToothGrowth", ToothGrowth, "toothgrowth.csv", "len", "supp", "VC"),
  list("mtcars", mtcars, "mtcars.csv", "mpg", "am", "0"),
  list("PlantGrowth", PlantGrowth, "plantgrowth.csv", "weight", "group", "ctrl"),
  list("synthetic", synthetic, "synthetic.csv", "support", "arm", "control"),
  list("synthetic_large", synthetic_large, "synthetic_large.csv", "support", "arm", "control"),
  list("tiny", tiny, "tiny.csv", "support", "arm", "control"),
  list("tiny_df1", tiny_df1, "tiny_df1.csv", "support", "arm", "control")
)

# The noncentrality bounds solved to full precision (the equations of effectsize:::.get_ncp_t).
exact_ncp <- function(t, df, ci) {
  a <- (1 - ci) / 2
  root <- function(p) {
    uniroot(function(ncp) pt(t, df, ncp) - p, c(t - 1, t + 1), extendInt = "yes",
            tol = 1e-13, maxiter = 10000)$root
  }
  suppressWarnings(c(root(1 - a), root(a)))
}

# The same bounds without R's pt(): P(T <= t | ncp) = E[pnorm(t sqrt(V / df) - ncp)] with
# V ~ chi-square(df), by numerical integration. For |ncp| > 37.62 pt() uses the normal
# approximation of Abramowitz & Stegun 26.7.10 (R's pnt.c), and so does effectsize; this
# column is the reference there (synthetic_large, t about 44).
pt_integral <- function(t, df, ncp) {
  lo <- qchisq(1e-17, df); hi <- qchisq(1e-17, df, lower.tail = FALSE)
  integrate(function(v) pnorm(t * sqrt(v / df) - ncp) * dchisq(v, df), lo, hi,
            rel.tol = 1e-13, abs.tol = 0, subdivisions = 10000L)$value
}
integral_ncp <- function(t, df, ci) {
  a <- (1 - ci) / 2
  root <- function(p) {
    uniroot(function(ncp) pt_integral(t, df, ncp) - p, c(t - 1, t + 1), extendInt = "yes",
            tol = 1e-13, maxiter = 10000)$root
  }
  c(root(1 - a), root(a))
}

r_version <- paste(R.version$major, R.version$minor, sep = ".")
es_version <- as.character(packageVersion("effectsize"))
rows <- list()
for (s in specs) {
  name <- s[[1]]; data <- s[[2]]; file <- s[[3]]; outcome <- s[[4]]; armvar <- s[[5]]
  ctl <- s[[6]]
  labels <- as.character(data[[armvar]])
  y <- data[[outcome]]
  yc <- y[labels == ctl]
  for (a in sort(setdiff(unique(labels), ctl))) {
    yt <- y[labels == a]
    nt <- length(yt); nc <- length(yc); df <- nt + nc - 2
    J <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
    t <- (mean(yt) - mean(yc)) / (sd_pooled(yt, yc) * sqrt(1 / nt + 1 / nc))
    for (ci in c(0.95, 0.90)) {
      ncp <- exact_ncp(t, df, ci) * sqrt(1 / nt + 1 / nc)
      ncp_int <- integral_ncp(t, df, ci) * sqrt(1 / nt + 1 / nc)
      for (method in c("cohens_d", "hedges_g")) {
        call <- sprintf('effectsize::%s(%s$%s[%s$%s == "%s"], %s$%s[%s$%s == "%s"], ci = %s)',
                        method, name, outcome, name, armvar, a, name, outcome, name, armvar,
                        ctl, format(ci))
        fn <- if (method == "cohens_d") cohens_d else hedges_g
        r <- suppressWarnings(fn(yt, yc, ci = ci))
        scale <- if (method == "hedges_g") J else 1
        rows[[length(rows) + 1]] <- data.frame(
          dataset = name, file = file, outcome = outcome, arm_column = armvar,
          control = ctl, arm = a, method = method, ci = ci, call = call,
          n_control = nc, n_treatment = nt, df = df, t = t,
          estimate = r[[1]], conf_low = r$CI_low, conf_high = r$CI_high,
          conf_low_exact = scale * ncp[1], conf_high_exact = scale * ncp[2],
          conf_low_integral = scale * ncp_int[1], conf_high_integral = scale * ncp_int[2],
          r_version = r_version, effectsize_version = es_version,
          stringsAsFactors = FALSE)
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(dir, "effectsize_reference.csv"), row.names = FALSE)

# The fallback: d +/- z se_d and g +/- z J se_d, se_d^2 = 1/nt + 1/nc + d^2 / (2 (nt + nc)).
degenerate <- rd("degenerate.csv")
fb <- list()
for (ci in c(0.95, 0.90)) {
  yt <- degenerate$support[degenerate$arm == "care"]
  yc <- degenerate$support[degenerate$arm == "control"]
  nt <- length(yt); nc <- length(yc); df <- nt + nc - 2
  J <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
  d <- (mean(yt) - mean(yc)) / sd_pooled(yt, yc)
  se <- sqrt(1 / nt + 1 / nc + d^2 / (2 * (nt + nc)))
  z <- qnorm(1 - (1 - ci) / 2)
  es_g <- suppressWarnings(hedges_g(yt, yc, ci = ci))
  fb[[length(fb) + 1]] <- data.frame(
    dataset = "degenerate", file = "degenerate.csv", outcome = "support", arm_column = "arm",
    control = "control", arm = "care", ci = ci,
    call = sprintf("d +/- qnorm(%s) se_d, g = J d +/- qnorm(%s) J se_d, se_d = sqrt(1/nt + 1/nc + d^2/(2 (nt + nc)))",
                   format(1 - (1 - ci) / 2), format(1 - (1 - ci) / 2)),
    cohens_d = d, hedges_g = J * d, d_conf_low = d - z * se, d_conf_high = d + z * se,
    conf_low = J * (d - z * se), conf_high = J * (d + z * se),
    effectsize_g_conf_low = es_g$CI_low, effectsize_g_conf_high = es_g$CI_high,
    r_version = r_version, effectsize_version = es_version, stringsAsFactors = FALSE)
}
write.csv(do.call(rbind, fb), file.path(dir, "fallback_reference.csv"), row.names = FALSE)
