# Backlash probabilities from the normal approximation, computed independently in R
# (R 4.2.2, estimatr 1.0): estimatr::difference_in_means for each arm vs control, overall
# and within each level of the moderator x2, then pnorm:
#   flat prior:       P(d < 0) = pnorm(0, m, s),  P(d < -delta) = pnorm(-delta, m, s)
#   skeptical prior:  N(0, tau^2) -> posterior N(m tau^2/(tau^2 + s^2), s^2 tau^2/(tau^2 + s^2))
# with m = estimate when the campaign wants an increase, m = -estimate for a decrease.
# delta = 0.2 and tau = 0.5 raw units (the plan: equivalence_units raw, backlash_delta 0.2,
# backlash_prior_sd 0.5). Data: tests/reference/data/synthetic.csv.
# Run from the repository root:  Rscript tests/reference/backlash/backlash.R
# Writes tests/reference/backlash/backlash_ref.csv.
suppressPackageStartupMessages(library(estimatr))
synth <- read.csv("tests/reference/data/synthetic.csv", stringsAsFactors = FALSE)
delta <- 0.2; tau <- 0.5
rows <- list()
prob <- function(est, se, desired) {
  m <- if (desired == "decrease") -est else est
  shrink <- tau^2 / (tau^2 + se^2)
  c(p_backlash = pnorm(0, m, se), p_backlash_delta = pnorm(-delta, m, se),
    p_backlash_prior = pnorm(0, m * shrink, sqrt(se^2 * shrink)),
    p_backlash_delta_prior = pnorm(-delta, m * shrink, sqrt(se^2 * shrink)))
}
for (desired in c("increase", "decrease")) {
  for (level in c(NA, sort(unique(synth$x2)))) {
    d <- if (is.na(level)) synth else synth[synth$x2 == level, ]
    for (a in c("care", "fairness")) {
      fit <- difference_in_means(post ~ arm, data = d, condition1 = "control", condition2 = a)
      t <- tidy(fit)
      p <- prob(t$estimate, t$std.error, desired)
      rows[[length(rows) + 1]] <- data.frame(desired = desired, outcome = "post", arm = a,
        moderator = if (is.na(level)) NA else "x2", level = level, estimate = t$estimate,
        std_error = t$std.error, delta = delta, prior_sd = tau, t(p),
        call = sprintf('pnorm(c(0, -%g), m, se) with tidy(difference_in_means(post ~ arm, data = %s, condition1 = "control", condition2 = "%s"))',
                       delta, if (is.na(level)) "synthetic" else sprintf('synthetic[x2 == "%s", ]', level), a))
    }
  }
}
write.csv(do.call(rbind, rows), "tests/reference/backlash/backlash_ref.csv", row.names = FALSE)
