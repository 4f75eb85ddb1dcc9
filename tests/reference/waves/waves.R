# Follow-up waves (issue 21): reference values for analysis.waves, from R.
# Produced with R 4.2.2, estimatr 1.0.0, sandwich 3.0-2, car (Debian bookworm packages).
# Run from the repository root:  Rscript tests/reference/waves/waves.R
# Writes
#   tests/reference/waves/two_wave.csv     the data: three arms of unequal size, arm-dependent
#                                          return to wave w2, a 1-7 outcome and a yes/no one
#   tests/reference/waves/effects_ref.csv  per outcome x frame: wave-1 and wave-2 effects on
#                                          the same participants, their CR2 covariance, the
#                                          share remaining (delta method and Fieller)
#   tests/reference/waves/returns_ref.csv  per frame: return-rate difference from control
# Independent of the Python code: the effects are estimatr::difference_in_means (and
# lm_robust HC2 for the standard error); the covariance is the stacked regression
# y ~ 0 + wave + wave:treated with CR2 errors clustered by participant (estimatr::lm_robust);
# the delta-method interval is car::deltaMethod on that fit; Fieller's interval is found by
# inverting its test numerically (uniroot), not by the quadratic formula; the return tests are
# lm_robust(returned ~ treated, se_type = "HC2"). write.csv keeps 15 significant digits.
suppressPackageStartupMessages({library(estimatr); library(car)})
out <- "tests/reference/waves"

set.seed(20261204)
sizes <- c(control = 140, care = 90, fairness = 60)
arm <- rep(names(sizes), sizes)
n <- length(arm)
eff1 <- c(control = 0, care = 0.25, fairness = 0.8)[arm]
eff2 <- c(control = 0, care = 0.05, fairness = 0.45)[arm]
z1 <- rnorm(n); z2 <- 0.6 * z1 + sqrt(1 - 0.6^2) * rnorm(n)
support <- pmin(7, pmax(1, round(4 + 1.3 * (z1 + eff1))))
back <- rbinom(n, 1, c(control = 0.65, care = 0.6, fairness = 0.4)[arm])
w2_support <- ifelse(back == 1, pmin(7, pmax(1, round(4 + 1.3 * (z2 + eff2)))), NA)
p1 <- c(control = 0.3, care = 0.35, fairness = 0.5)[arm]
join_sms <- rbinom(n, 1, p1)
# a returner's yes/no answer repeats the first with probability 0.7, else is redrawn
w2_join <- ifelse(runif(n) < 0.7, join_sms, rbinom(n, 1, c(control = 0.3, care = 0.32, fairness = 0.42)[arm]))
w2_join_sms <- ifelse(back == 1, w2_join, NA)
w2_support[back == 1][1] <- NA  # one returner skipped the question at wave 2
d <- data.frame(participant = sprintf("p%04d", seq_len(n)), arm = arm, status = "completed",
                support = support, join_sms = join_sms, w2_support = w2_support,
                w2_join_sms = w2_join_sms, w2_returned = back, stringsAsFactors = FALSE)
write.csv(d, file.path(out, "two_wave.csv"), row.names = FALSE, na = "")

fieller <- function(b1, bk, v11, vkk, v1k, level = 0.95) {
  z <- qnorm(1 - (1 - level) / 2)
  stat <- function(r) (bk - r * b1)^2 / (vkk - 2 * r * v1k + r^2 * v11) - z^2
  if (b1^2 / v11 <= z^2) return(c(NA, NA))  # the wave-1 effect's interval holds 0: unbounded
  r <- bk / b1; s <- 1e6
  c(uniroot(stat, c(r - s, r), tol = 1e-13)$root, uniroot(stat, c(r, r + s), tol = 1e-13)$root)
}

rows <- list()
for (y in c("support", "join_sms")) {
  later <- paste0("w2_", y)
  for (a in c("care", "fairness")) {
    s <- d[d$arm %in% c("control", a) & d$w2_returned == 1 & !is.na(d[[y]]) & !is.na(d[[later]]), ]
    s$treated <- as.integer(s$arm == a)
    f1 <- difference_in_means(as.formula(paste(y, "~ treated")), data = s)
    fk <- difference_in_means(as.formula(paste(later, "~ treated")), data = s)
    l1 <- lm_robust(as.formula(paste(y, "~ treated")), data = s, se_type = "HC2")
    stacked <- rbind(data.frame(id = s$participant, wave = "w1", treated = s$treated, y = s[[y]]),
                     data.frame(id = s$participant, wave = "w2", treated = s$treated, y = s[[later]]))
    stacked$wave <- factor(stacked$wave)
    joint <- lm_robust(y ~ 0 + wave + wave:treated, data = stacked, clusters = id, se_type = "CR2")
    V <- vcov(joint)
    t1 <- "wavew1:treated"; tk <- "wavew2:treated"
    b <- coef(joint)
    bb <- setNames(b[c(t1, tk)], c("b1", "b2"))
    VV <- V[c(t1, tk), c(t1, tk)]; dimnames(VV) <- list(names(bb), names(bb))
    dm <- deltaMethod(bb, "b2 / b1", vcov. = VV, level = 0.95)
    fl <- fieller(b[[t1]], b[[tk]], V[t1, t1], V[tk, tk], V[t1, tk])
    rows[[length(rows) + 1]] <- data.frame(
      outcome = y, arm = a, n_control = sum(s$treated == 0), n_treatment = sum(s$treated == 1),
      first_estimate = f1$coefficients[[1]], first_std_error = f1$std.error[[1]],
      first_df = f1$df[[1]], first_conf_low = f1$conf.low[[1]], first_conf_high = f1$conf.high[[1]],
      first_lm_robust_se = l1$std.error[["treated"]],
      estimate = fk$coefficients[[1]], std_error = fk$std.error[[1]], df = fk$df[[1]],
      p_value = fk$p.value[[1]], conf_low = fk$conf.low[[1]], conf_high = fk$conf.high[[1]],
      joint_first = b[[t1]], joint_later = b[[tk]],
      joint_var_first = V[t1, t1], joint_var_later = V[tk, tk], covariance = V[t1, tk],
      share = dm$Estimate, share_std_error = dm$SE,
      share_delta_low = dm$`2.5 %`, share_delta_high = dm$`97.5 %`,
      share_conf_low = fl[1], share_conf_high = fl[2], stringsAsFactors = FALSE)
  }
}
write.csv(do.call(rbind, rows), file.path(out, "effects_ref.csv"), row.names = FALSE)

rows <- list()
for (a in c("care", "fairness")) {
  s <- d[d$arm %in% c("control", a), ]
  s$treated <- as.integer(s$arm == a)
  f <- lm_robust(w2_returned ~ treated, data = s, se_type = "HC2")
  rows[[length(rows) + 1]] <- data.frame(
    arm = a, eligible = sum(s$treated == 1), returned = sum(s$w2_returned[s$treated == 1]),
    return_rate = mean(s$w2_returned[s$treated == 1]),
    control_rate = mean(s$w2_returned[s$treated == 0]),
    difference = f$coefficients[["treated"]], std_error = f$std.error[["treated"]],
    statistic = f$statistic[["treated"]], df = f$df[["treated"]], p_value = f$p.value[["treated"]],
    conf_low = f$conf.low[["treated"]], conf_high = f$conf.high[["treated"]],
    stringsAsFactors = FALSE)
}
write.csv(do.call(rbind, rows), file.path(out, "returns_ref.csv"), row.names = FALSE)
