# Reference for analysis.manipulation (issue 19). Run from the repository root:
#   Rscript tests/reference/manipulation/manipulation_reference.R
# Difference in proportions: estimatr::difference_in_means on the 0/1 indicator
# (HC2 = Neyman SE, Welch df); omnibus: chisq.test(table(arm, answer), correct = FALSE).
library(estimatr)
d <- read.csv("tests/reference/manipulation/manipulation_data.csv")
d <- d[!is.na(d$check), ]
targets <- list(care = 1, loyalty = 2, liberty = 3)
rows <- list()
for (a in names(targets)) {
  hit <- as.numeric(d$check %in% targets[[a]])
  for (cmp in c("control", "other_frames")) {
    keep <- if (cmp == "control") d$arm %in% c(a, "control") else d$arm != "control"
    s <- data.frame(hit = hit[keep], z = as.numeric(d$arm[keep] == a))
    f <- difference_in_means(hit ~ z, data = s)
    rows[[length(rows) + 1]] <- data.frame(
      arm = a, comparison = cmp, estimate = unname(f$coefficients),
      std_error = unname(f$std.error), df = unname(f$df), p_value = unname(f$p.value),
      conf_low = unname(f$conf.low), conf_high = unname(f$conf.high)
    )
  }
}
write.csv(do.call(rbind, rows), "tests/reference/manipulation/differences_ref.csv", row.names = FALSE)
ct <- chisq.test(table(d$arm, d$check), correct = FALSE)
write.csv(
  data.frame(statistic = unname(ct$statistic), df = unname(ct$parameter), p_value = ct$p.value),
  "tests/reference/manipulation/omnibus_ref.csv", row.names = FALSE
)
