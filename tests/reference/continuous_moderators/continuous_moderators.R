# Reference values for continuous moderators (analysis/heterogeneity.py, issue 25).
# Run from the repository root:
#   Rscript tests/reference/continuous_moderators/continuous_moderators.R
# Needs estimatr (Debian r-cran-estimatr). Reads data.csv (make_data.py), writes
#   interactions.csv: lm_robust(y ~ arm * slider_c, se_type = "HC2") with the moderator
#     centred at its mean over the complete cases (arm, y, slider), control the reference;
#     the frame coefficients (effect at the mean slider) and the interaction terms;
#   subgroups.csv: difference_in_means(y ~ arm) within each range of the slider, the ranges
#     from cut(slider, c(-Inf, cuts, Inf), right = FALSE), cuts = the tertiles
#     quantile(slider, c(1/3, 2/3)) (type 7, every row with a slider value) or the
#     declared cut points c(25, 50, 75); 15 significant digits.
suppressPackageStartupMessages(library(estimatr))
dir <- "tests/reference/continuous_moderators"
d <- read.csv(file.path(dir, "data.csv"), stringsAsFactors = FALSE)
d$arm <- relevel(factor(d$arm), ref = "control")

cc <- d[complete.cases(d[, c("arm", "y", "slider")]), ]
cc$slider_c <- cc$slider - mean(cc$slider)
fit <- lm_robust(y ~ arm * slider_c, data = cc, se_type = "HC2")
t <- tidy(fit)
t <- t[t$term %in% c("armcare", "armliberty", "armcare:slider_c", "armliberty:slider_c"), ]
ints <- data.frame(term = t$term, estimate = t$estimate, std_error = t$std.error,
                   df = t$df, p_value = t$p.value, conf_low = t$conf.low,
                   conf_high = t$conf.high, n = nobs(fit), centre = mean(cc$slider))
write.csv(format(ints, digits = 15), file.path(dir, "interactions.csv"), row.names = FALSE)

labels_for <- function(cuts) {
  f <- function(x) format(x, digits = 6)
  c(paste("<", f(cuts[1])),
    if (length(cuts) > 1) paste(f(cuts[-length(cuts)]), "to <", f(cuts[-1])),
    paste(">=", f(cuts[length(cuts)])))
}
rows <- list()
x <- d$slider[!is.na(d$slider)]
for (grouping in c("tertiles", "cut_points")) {
  cuts <- if (grouping == "tertiles") unique(unname(quantile(x, c(1/3, 2/3)))) else c(25, 50, 75)
  g <- cut(d$slider, c(-Inf, cuts, Inf), right = FALSE, labels = labels_for(cuts))
  for (lv in levels(g)) for (a in c("care", "liberty")) {
    s <- d[!is.na(g) & g == lv & d$arm %in% c("control", a) & !is.na(d$y), ]
    r <- tidy(difference_in_means(y ~ arm, data = s, condition1 = "control", condition2 = a))
    rows[[length(rows) + 1]] <- data.frame(
      grouping = grouping, level = lv, arm = a, estimate = r$estimate,
      std_error = r$std.error, df = r$df, p_value = r$p.value, conf_low = r$conf.low,
      conf_high = r$conf.high, n_control = sum(s$arm == "control"), n_treatment = sum(s$arm == a),
      cut_low = if (lv == levels(g)[1]) -Inf else cuts[match(lv, levels(g)) - 1])
  }
}
sub <- do.call(rbind, rows)
write.csv(format(sub, digits = 15), file.path(dir, "subgroups.csv"), row.names = FALSE)
sessioninfo <- c(R.version.string, paste("estimatr", packageVersion("estimatr")))
writeLines(sessioninfo, file.path(dir, "versions.txt"))
