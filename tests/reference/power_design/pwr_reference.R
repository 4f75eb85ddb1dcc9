# Reference for analysis.power_design (issue 19): two arms, unblocked, equal allocation.
# Run from the repository root: Rscript tests/reference/power_design/pwr_reference.R
library(pwr)
cases <- data.frame(n_per_arm = c(100, 250, 60), d = c(0.3, 0.2, 0.5))
cases$power <- mapply(function(n, d) pwr.t.test(n = n, d = d, sig.level = 0.05)$power,
                      cases$n_per_arm, cases$d)
cases$n80_per_arm <- sapply(cases$d, function(d) pwr.t.test(d = d, power = 0.8, sig.level = 0.05)$n)
cases$n90_per_arm <- sapply(cases$d, function(d) pwr.t.test(d = d, power = 0.9, sig.level = 0.05)$n)
cases$call <- sprintf("pwr.t.test(n = %d, d = %.1f, sig.level = 0.05)", cases$n_per_arm, cases$d)
write.csv(cases, "tests/reference/power_design/pwr_ref.csv", row.names = FALSE)
