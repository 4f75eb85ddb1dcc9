# Reference values for analysis/heterogeneity.py.
# Run from the repository root:  Rscript tests/reference/heterogeneity/heterogeneity_reference.R
# Needs estimatr 1.0, sandwich, car (Debian r-cran-*). Reads the framing and JOBS II
# experiments from tests/reference/diagnostics/ (see prepare_data.py there); writes
# value_match_data.csv (synthetic) and *_ref.csv here, 15 significant digits.
suppressPackageStartupMessages({ library(estimatr); library(sandwich); library(car) })
invisible(Sys.setlocale("LC_COLLATE", "C"))  # level order = Python's sorted()
dir <- "tests/reference/heterogeneity"
w <- function(df, name) write.csv(df, file.path(dir, name), row.names = FALSE, na = "")
framing <- read.csv("tests/reference/diagnostics/framing.csv", stringsAsFactors = FALSE)
jobs <- read.csv("tests/reference/diagnostics/jobs.csv", stringsAsFactors = FALSE)
framing$arm <- relevel(factor(framing$arm), ref = "tone0_eth0")
jobs$arm <- relevel(factor(jobs$arm), ref = "control")

# 1. subgroup_effects: difference_in_means(y ~ arm, condition1 = control, condition2 = a)
#    within each moderator level; cells below min_cell_size = 10 are recorded, not estimated.
sub <- list()
cases <- list(list("framing", framing, "immigr", "educ", "tone0_eth0"),
              list("framing", framing, "immigr", "gender", "tone0_eth0"),
              list("jobs", jobs, "depress2", "marital", "control"))
for (cs in cases) {
  d <- cs[[2]]; y <- cs[[3]]; m <- cs[[4]]; ctl <- cs[[5]]
  for (lv in sort(unique(d[[m]]))) for (a in setdiff(levels(d$arm), ctl)) {
    s <- d[d[[m]] == lv & d$arm %in% c(ctl, a), ]
    n_c <- sum(s$arm == ctl); n_t <- sum(s$arm == a)
    r <- data.frame(dataset = cs[[1]], outcome = y, moderator = m, level = lv, arm = a,
                    estimate = NA, std_error = NA, statistic = NA, df = NA, p_value = NA,
                    conf_low = NA, conf_high = NA, n_control = n_c, n_treatment = n_t)
    if (min(n_c, n_t) >= 10) {
      t <- tidy(difference_in_means(reformulate("arm", y), data = s, condition1 = ctl, condition2 = a))
      r[c("estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high")] <-
        t[c("estimate", "std.error", "statistic", "df", "p.value", "conf.low", "conf.high")]
    }
    sub[[length(sub) + 1]] <- r
  }
}
w(do.call(rbind, sub), "subgroups_ref.csv")

# 2. interaction_effects: lm_robust(y ~ arm * moderator + covariates, se_type = "HC2"), ":" terms;
# 3. interaction_joint_test: linearHypothesis(lm(same), ":" terms, vcov. = vcovHC(type = "HC2")).
models <- list(
  list("framing_gender", framing, immigr ~ arm * gender + age + income),
  list("framing_income", framing, immigr ~ arm * income),
  list("framing_educ", framing, immigr ~ arm * educ + gender),
  list("jobs_depress1", jobs, depress2 ~ arm * depress1 + econ_hard + age + sex)
)
inter <- list(); joint <- list()
for (md in models) {
  fit <- lm_robust(md[[3]], data = md[[2]], se_type = "HC2")
  t <- tidy(fit); t <- t[grepl(":", t$term), ]
  inter[[length(inter) + 1]] <- data.frame(model = md[[1]], term = t$term, estimate = t$estimate,
    std_error = t$std.error, statistic = t$statistic, df = t$df, p_value = t$p.value,
    conf_low = t$conf.low, conf_high = t$conf.high, n = nobs(fit))
  ols <- lm(md[[3]], data = md[[2]])
  terms <- grep(":", names(coef(ols)), value = TRUE)
  ch <- linearHypothesis(ols, terms, vcov. = vcovHC(ols, type = "HC2"), test = "Chisq")
  ft <- linearHypothesis(ols, terms, vcov. = vcovHC(ols, type = "HC2"), test = "F")
  joint[[length(joint) + 1]] <- data.frame(model = md[[1]], statistic = ch$Chisq[2], df = ch$Df[2],
    p_value = ch$`Pr(>Chisq)`[2], f_statistic = ft$F[2], df_num = ft$Df[2], df_denom = ft$Res.Df[2],
    f_p_value = ft$`Pr(>F)`[2], n = nobs(ols))
}
w(do.call(rbind, inter), "interactions_ref.csv")
w(do.call(rbind, joint), "interaction_joint_ref.csv")

# 4. value_match on a synthetic moral-reframing study: control + care/fairness/loyalty frames,
#    pre-measured value scores (1-5), a planted matched-value interaction for care and fairness,
#    some missing scores.
set.seed(20151125)
n <- 900
vm <- data.frame(id = sprintf("p%03d", 1:n), arm = sample(c("control", "care", "fairness", "loyalty"), n, TRUE),
                 care_v = round(pmin(5, pmax(1, rnorm(n, 3.8, 0.7))), 2),
                 fairness_v = round(pmin(5, pmax(1, rnorm(n, 3.5, 0.8))), 2),
                 loyalty_v = round(pmin(5, pmax(1, rnorm(n, 2.9, 0.9))), 2))
inter_true <- c(control = 0, care = 0.5, fairness = 0.35, loyalty = 0)
own <- ifelse(vm$arm == "care", vm$care_v, ifelse(vm$arm == "fairness", vm$fairness_v,
              ifelse(vm$arm == "loyalty", vm$loyalty_v, 0)))
vm$support <- round(4 + 0.2 * (vm$arm != "control") + inter_true[vm$arm] * (own - 3.4) +
                    0.3 * vm$care_v + rnorm(n, 0, 1.2 + 0.3 * (vm$arm == "loyalty")), 3)
vm$care_v[sample(n, 25)] <- NA
vm$support[sample(n, 15)] <- NA
w(vm, "value_match_data.csv")

tags <- c(care = "care_v", fairness = "fairness_v", loyalty = "loyalty_v")
vrows <- list(); stack <- list()
for (a in names(tags)) {
  s <- vm[vm$arm %in% c("control", a) & !is.na(vm$support) & !is.na(vm[[tags[a]]]), ]
  s$T <- as.numeric(s$arm == a); s$v <- s[[tags[a]]] - mean(s[[tags[a]]])
  t <- tidy(lm_robust(support ~ T * v, data = s, se_type = "HC2")); t <- t[t$term == "T:v", ]
  vrows[[a]] <- data.frame(arm = a, value_column = tags[[a]], method = "arm_interaction",
    estimate = t$estimate, std_error = t$std.error, statistic = t$statistic, df = t$df,
    p_value = t$p.value, conf_low = t$conf.low, conf_high = t$conf.high)
  s$s <- a
  stack[[a]] <- s[c("id", "s", "support", "T", "v")]
}
st <- do.call(rbind, stack)
# Pooled: comparison-specific intercepts, effects and value slopes; one common T:v; CR1 by participant.
pf <- lm_robust(support ~ 0 + factor(s) + factor(s):T + factor(s):v + I(T * v), data = st,
                clusters = id, se_type = "stata")
t <- tidy(pf); t <- t[t$term == "I(T * v)", ]
vrows[["pooled"]] <- data.frame(arm = "pooled", value_column = NA, method = "pooled",
  estimate = t$estimate, std_error = t$std.error, statistic = t$statistic, df = t$df,
  p_value = t$p.value, conf_low = t$conf.low, conf_high = t$conf.high)
w(do.call(rbind, vrows), "value_match_ref.csv")
