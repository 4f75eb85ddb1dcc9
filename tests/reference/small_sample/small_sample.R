# Bell-McCaffrey degrees of freedom for HC2 coefficients, from clubSandwich:
#   coef_test(lm(...), vcov = "CR2", cluster = 1:n, test = "Satterthwaite")
# CR2 with every participant its own cluster is HC2 (Bell & McCaffrey 2002;
# Pustejovsky & Tipton 2018). Produced with R 4.2.2, clubSandwich 0.5.8.
# Run from the repository root:  Rscript tests/reference/small_sample/small_sample.R
# Reads tests/reference/data/*.csv and tests/reference/diagnostics/framing.csv; writes
#   tests/reference/small_sample/unbalanced.csv      (15 control vs 60 treated, control SD 3x)
#   tests/reference/small_sample/small_sample_ref.csv (one row per case x term)
# Each row carries the R call in `call`. write.csv keeps 15 significant digits.
suppressPackageStartupMessages(library(clubSandwich))
dir <- "tests/reference"
out <- file.path(dir, "small_sample")
rd <- function(p) read.csv(file.path(dir, p), stringsAsFactors = FALSE)

set.seed(20260519)
n_c <- 15; n_t <- 60
x <- rnorm(n_c + n_t)
unbalanced <- data.frame(arm = rep(c("control", "treated"), c(n_c, n_t)), x = x,
                         y = 0.5 * x + c(rnorm(n_c, 0, 3), rnorm(n_t, 0, 1)))
write.csv(unbalanced, file.path(out, "unbalanced.csv"), row.names = FALSE)

rows <- list()
add <- function(case, fit, terms, call) {
  cl <- seq_len(nobs(fit))
  ct <- coef_test(fit, vcov = "CR2", cluster = cl, test = "Satterthwaite")
  ci <- conf_int(fit, vcov = "CR2", cluster = cl, test = "Satterthwaite", level = 0.95)
  for (term in terms) {
    r <- ct[ct$Coef == term, ]; s <- ci[ci$Coef == term, ]
    rows[[length(rows) + 1]] <<- data.frame(case = case, term = term, call = call,
      estimate = r$beta, std_error = r$SE, statistic = r$tstat, df = r$df_Satt,
      p_value = r$p_Satt, conf_low = s$CI_L, conf_high = s$CI_U, n = nobs(fit),
      stringsAsFactors = FALSE)
  }
}
arm_terms <- function(fit, prefix) grep(paste0("^", prefix, "[^:]*$"), names(coef(fit)), value = TRUE)

# Lin (2013): y ~ arm * (covariates centred at their means), as estimatr::lm_lin builds it.
lin_case <- function(case, d, y, arm, ctl, covs, label) {
  d <- d[complete.cases(d[, c(y, arm, covs)]), ]
  X <- model.matrix(as.formula(paste("~", paste(covs, collapse = " + "))), d)[, -1, drop = FALSE]
  X <- X[, apply(X, 2, function(v) length(unique(v)) > 1), drop = FALSE]
  d$Xc <- scale(X, center = TRUE, scale = FALSE)
  d$A <- relevel(factor(d[[arm]]), ctl)
  d$Y <- d[[y]]
  fit <- lm(Y ~ A * Xc, data = d)
  call <- sprintf('coef_test(lm(%s ~ A * Xc), vcov = "CR2", cluster = 1:n, test = "Satterthwaite")  # %s, A = relevel(%s, "%s"), Xc = centred model.matrix(~ %s)',
                  y, label, arm, ctl, paste(covs, collapse = " + "))
  add(case, fit, arm_terms(fit, "A"), call)
}
ols_case <- function(case, d, formula, arm, ctl, label, terms_pattern = NULL) {
  d$A <- relevel(factor(d[[arm]]), ctl)
  f <- as.formula(formula)
  fit <- lm(f, data = d)
  terms <- if (is.null(terms_pattern)) arm_terms(fit, "A") else grep(terms_pattern, names(coef(fit)), value = TRUE)
  call <- sprintf('coef_test(lm(%s, data = %s), vcov = "CR2", cluster = 1:n, test = "Satterthwaite")  # A = relevel(%s, "%s")',
                  formula, label, arm, ctl)
  add(case, fit, terms, call)
}

framing <- rd("data/framing.csv")
thornton <- rd("data/thornton_hiv.csv")
synth <- rd("data/synthetic.csv")
fr2 <- rd("diagnostics/framing.csv")
jobs <- rd("diagnostics/jobs.csv")

lin_case("framing_immigr_lin", framing, "immigr", "cond", "c1", c("age", "income", "gender", "educ"), "framing")
ols_case("framing_emo_ancova", framing, "emo ~ A + age", "cond", "c1", "framing")
lin_case("thornton_got_lin", thornton, "got", "arm", "control", c("age", "distvct"), "thornton")
lin_case("synthetic_post_lin", synth, "post", "arm", "control", c("x1", "x2", "pre"), "synthetic")
ols_case("synthetic_post_ancova", synth, "post ~ A + pre", "arm", "control", "synthetic")
ols_case("synthetic_post_change_score", synth, "I(post - pre) ~ A", "arm", "control", "synthetic")
lin_case("unbalanced_lin", unbalanced, "y", "arm", "control", c("x"), "unbalanced")
ols_case("unbalanced_ancova", unbalanced, "y ~ A + x", "arm", "control", "unbalanced")
# Interactions: lm(y ~ arm * moderator + covariates), the ":" terms (as test_heterogeneity's models).
ols_case("framing_gender", fr2, "immigr ~ A * gender + age + income", "arm", "tone0_eth0", "framing", ":")
ols_case("framing_income", fr2, "immigr ~ A * income", "arm", "tone0_eth0", "framing", ":")
ols_case("framing_educ", fr2, "immigr ~ A * educ + gender", "arm", "tone0_eth0", "framing", ":")
ols_case("jobs_depress1", jobs, "depress2 ~ A * depress1 + econ_hard + age + sex", "arm", "control", "jobs", ":")

res <- do.call(rbind, rows)
write.csv(res, file.path(out, "small_sample_ref.csv"), row.names = FALSE)
cat("wrote", nrow(res), "rows\n")
