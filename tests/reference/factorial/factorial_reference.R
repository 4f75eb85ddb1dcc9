# Reference for analysis.factorial (issue 19). Run from the repository root:
#   Rscript tests/reference/factorial/factorial_reference.R
# HC2 throughout (estimatr::lm_robust, its default se_type), residual df.
library(estimatr)
d <- read.csv("tests/reference/factorial/factorial_data.csv")
d <- d[!is.na(d$welcome), ]
cells <- d[d$arm != "control", ]
cells$value <- factor(cells$factor_value, levels = c("care", "loyalty"))
cells$messenger <- factor(cells$factor_messenger, levels = c("refugee", "neighbour"))
row <- function(term, factor, level, f, name) data.frame(
  term = term, factor = factor, level = level,
  estimate = unname(coef(f)[name]), std_error = unname(f$std.error[name]),
  df = unname(f$df[name]), p_value = unname(f$p.value[name]),
  conf_low = unname(f$conf.low[name]), conf_high = unname(f$conf.high[name])
)
# The interaction: treatment coding, exactly lm_robust(y ~ value * messenger).
treat <- lm_robust(welcome ~ value * messenger, data = cells)
# Main effects: centred (+-1/2) coding, so each coefficient averages over the other factor.
cells$vc <- ifelse(cells$value == "loyalty", 0.5, -0.5)
cells$mc <- ifelse(cells$messenger == "neighbour", 0.5, -0.5)
centred <- lm_robust(welcome ~ vc * mc, data = cells)
out <- rbind(
  row("main_effect", "factor_value", "loyalty", centred, "vc"),
  row("main_effect", "factor_messenger", "neighbour", centred, "mc"),
  row("interaction", "factor_value", "loyalty", treat, "valueloyalty:messengerneighbour")
)
# Each cell vs control: lm_robust(y ~ arm) with the control as reference.
d$arm <- factor(d$arm, levels = c("control", "care_refugee", "care_neighbour",
                                  "loyalty_refugee", "loyalty_neighbour"))
all <- lm_robust(welcome ~ arm, data = d)
for (a in levels(d$arm)[-1]) out <- rbind(out, row("cell_vs_control", a, a, all, paste0("arm", a)))
# Main effects vs the control (control_in_main_effects): a linear combination of the
# saturated model's coefficients, c'b and sqrt(c' V c), df = N - 5.
V <- vcov(all); b <- coef(all)
combo <- function(level, w) {
  est <- sum(w * b); se <- sqrt(drop(t(w) %*% V %*% w)); dfr <- all$df[1]
  tt <- qt(0.975, dfr)
  data.frame(term = "main_effect_vs_control", factor = "", level = level, estimate = est,
             std_error = se, df = dfr, p_value = 2 * pt(-abs(est / se), dfr),
             conf_low = est - tt * se, conf_high = est + tt * se)
}
nm <- names(b)
w_for <- function(arms) { w <- setNames(rep(0, length(b)), nm); w[paste0("arm", arms)] <- 0.5; w }
out <- rbind(out,
  combo("care", w_for(c("care_refugee", "care_neighbour"))),
  combo("loyalty", w_for(c("loyalty_refugee", "loyalty_neighbour"))),
  combo("refugee", w_for(c("care_refugee", "loyalty_refugee"))),
  combo("neighbour", w_for(c("care_neighbour", "loyalty_neighbour")))
)
write.csv(out, "tests/reference/factorial/factorial_ref.csv", row.names = FALSE)
