# References for analysis/meta.py (tests/analysis/test_library_meta.py).
# Run from the repository root:  Rscript tests/reference/meta/metafor_reference.R
# Writes tests/reference/meta/metafor_reference.json. The suite never runs R.
#
# Every fit is metafor::rma(yi, vi, method = "REML", test = "knha"); REML is iterated
# to a tight threshold so the reference is the maximiser itself, not metafor's default
# stopping point (threshold 1e-5 on the change of tau^2).
suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})
ctrl <- list(threshold = 1e-12, maxiter = 10000)
here <- "tests/reference/meta"

summarise <- function(name, call, yi, vi, mods = NULL, moderator = NULL) {
  if (is.null(mods)) {
    fit <- rma(yi, vi, method = "REML", test = "knha", control = ctrl)
  } else {
    fit <- rma(yi, vi, mods = ~mods, method = "REML", test = "knha", control = ctrl)
  }
  default_fit <- if (is.null(mods)) rma(yi, vi, method = "REML", test = "knha") else
    rma(yi, vi, mods = ~mods, method = "REML", test = "knha")
  out <- list(
    name = name, call = call, yi = as.numeric(yi), vi = as.numeric(vi),
    k = fit$k, tau2 = fit$tau2, se_tau2 = fit$se.tau2, I2 = fit$I2, H2 = fit$H2,
    QE = fit$QE, QEp = fit$QEp, df = fit$ddf[[1]],
    default_tau2 = default_fit$tau2,
    metafor_version = as.character(packageVersion("metafor"))
  )
  if (is.null(mods)) {
    pr <- predict(fit)
    b <- blup(fit)
    out$estimate <- as.numeric(fit$beta)
    out$se <- fit$se
    out$ci_lb <- fit$ci.lb
    out$ci_ub <- fit$ci.ub
    out$pval <- fit$pval
    out$pi_lb <- pr$pi.lb
    out$pi_ub <- pr$pi.ub
    out$blup <- list(pred = b$pred, se = b$se, pi_lb = b$pi.lb, pi_ub = b$pi.ub)
  } else {
    out$moderator <- moderator
    out$x <- as.numeric(mods)
    out$coef <- as.numeric(fit$beta)
    out$se <- fit$se
    out$ci_lb <- fit$ci.lb
    out$ci_ub <- fit$ci.ub
    out$pval <- fit$pval
    out$QM <- fit$QM
    out$QMp <- fit$QMp
    out$R2 <- fit$R2
  }
  out
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                  m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
molloy <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
syn <- read.csv(file.path(here, "synthetic_effects.csv"))

fits <- list(
  summarise("bcg", 'rma(yi, vi, data = escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg), method = "REML", test = "knha")',
            bcg$yi, bcg$vi),
  summarise("bcg_ablat", 'rma(yi, vi, mods = ~ablat, data = escalc("RR", ..., data = dat.bcg), method = "REML", test = "knha")',
            bcg$yi, bcg$vi, mods = bcg$ablat, moderator = "ablat"),
  summarise("normand1999", 'rma(yi, vi, data = escalc("MD", m1i, sd1i, n1i, m2i, sd2i, n2i, data = dat.normand1999), method = "REML", test = "knha")',
            normand$yi, normand$vi),
  summarise("molloy2014", 'rma(yi, vi, data = escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014), method = "REML", test = "knha")',
            molloy$yi, molloy$vi),
  summarise("molloy2014_meanage", 'rma(yi, vi, mods = ~meanage, data = escalc("ZCOR", ..., data = dat.molloy2014), method = "REML", test = "knha")',
            molloy$yi, molloy$vi, mods = molloy$meanage, moderator = "meanage"),
  summarise("synthetic", 'rma(estimate, std_error^2, data = synthetic_effects.csv, method = "REML", test = "knha")',
            syn$estimate, syn$std_error^2),
  summarise("synthetic_ideology", 'rma(estimate, std_error^2, mods = ~ideology, data = synthetic_effects.csv, method = "REML", test = "knha")',
            syn$estimate, syn$std_error^2, mods = syn$ideology, moderator = "ideology"),
  # Three homogeneous studies: REML puts tau^2 on its boundary (0).
  summarise("boundary", 'rma(c(0.10, 0.11, 0.12), c(0.01, 0.02, 0.015), method = "REML", test = "knha")',
            c(0.10, 0.11, 0.12), c(0.01, 0.02, 0.015))
)
# Forty random meta-analyses (k from 3 to 40, tau^2 from 0 to 1, sampling variances
# spanning up to five orders of magnitude), to check REML's convergence broadly.
set.seed(2026)
for (i in 1:40) {
  k <- sample(3:40, 1)
  vi <- exp(runif(k, log(1e-3), log(10^runif(1, -2, 2))))
  tau2 <- sample(c(0, 0.005, 0.05, 0.5, 1), 1)
  yi <- rnorm(k, 0.2, sqrt(vi + tau2))
  fits[[length(fits) + 1]] <- summarise(
    sprintf("random%02d", i), sprintf("rma(yi, vi, method = \"REML\", test = \"knha\") on random set %d (set.seed(2026))", i),
    yi, vi)
}
names(fits) <- sapply(fits, function(f) f$name)
writeLines(toJSON(fits, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "metafor_reference.json"))
