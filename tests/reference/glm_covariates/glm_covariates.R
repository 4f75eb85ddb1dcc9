# Proportional-odds and logit models with the plan's covariates, as analysis.run fits them
# (issue 19): every coefficient (arms and covariates) and every threshold of
#   summary(ordinal::clm(factor(y) ~ arm + covariates))   (Wald z, Wald interval)
#   summary(glm(y ~ arm + covariates, family = binomial)) (Wald z, confint.default)
# Text covariates are factors whose reference is the first level in C-locale order (as
# analysis sorts them); numeric covariates enter uncentred, so the thresholds are those
# of a control participant with covariates 0, as clm reports them.
# Produced with R 4.2.2, ordinal 2022.11.16. Run from the repository root:
#   Rscript tests/reference/glm_covariates/glm_covariates.R
# Writes tests/reference/glm_covariates/glm_covariates_ref.csv (one row per model x term).
suppressPackageStartupMessages(library(ordinal))
dir <- "tests/reference"
rd <- function(p) read.csv(file.path(dir, p), stringsAsFactors = FALSE)
rows <- list()
z <- qnorm(0.975)
add <- function(case, call, tab, kind, n) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, term = rownames(tab), kind = kind,
    call = call, estimate = tab[, 1], std_error = tab[, 2], statistic = tab[, 3],
    p_value = tab[, 4], conf_low = tab[, 1] - z * tab[, 2], conf_high = tab[, 1] + z * tab[, 2],
    n = n, stringsAsFactors = FALSE, row.names = NULL)
}
prep <- function(d, y, arm, ctl, covs) {
  d <- d[complete.cases(d[, c(y, arm, covs)]), ]
  d$arm <- relevel(factor(d[[arm]]), ctl)
  for (v in covs) if (is.character(d[[v]])) d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))
  d
}
clm_case <- function(case, file, y, arm, ctl, covs) {
  d <- prep(rd(file), y, arm, ctl, covs)
  d$.y <- factor(d[[y]], ordered = TRUE)
  f <- as.formula(paste(".y ~ arm +", paste(covs, collapse = " + ")))
  fit <- clm(f, data = d, control = clm.control(gradTol = 1e-12, relTol = 1e-14, maxIter = 1000))
  tab <- summary(fit)$coefficients
  call <- sprintf('summary(clm(factor(%s) ~ arm + %s, data = %s))  # arm = relevel(%s, "%s")',
                  y, paste(covs, collapse = " + "), file, arm, ctl)
  th <- names(fit$alpha)
  add(case, call, tab[th, , drop = FALSE], "threshold", nrow(d))
  add(case, call, tab[setdiff(rownames(tab), th), , drop = FALSE], "coefficient", nrow(d))
}
glm_case <- function(case, file, y, arm, ctl, covs) {
  d <- prep(rd(file), y, arm, ctl, covs)
  f <- as.formula(paste(y, "~ arm +", paste(covs, collapse = " + ")))
  fit <- glm(f, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
  call <- sprintf('summary(glm(%s ~ arm + %s, family = binomial, data = %s))  # arm = relevel(%s, "%s")',
                  y, paste(covs, collapse = " + "), file, arm, ctl)
  add(case, call, summary(fit)$coefficients, "coefficient", nrow(d))
}
clm_case("framing_immigr", "data/framing.csv", "immigr", "cond", "c1", c("age", "income", "gender", "educ"))
clm_case("synthetic_support", "data/synthetic.csv", "support", "arm", "control", c("x1", "x2", "pre"))
glm_case("framing_cong_mesg", "data/framing.csv", "cong_mesg", "cond", "c1", c("age", "income", "gender", "educ"))
glm_case("synthetic_join", "data/synthetic.csv", "join", "arm", "control", c("x1", "x2", "pre"))
res <- do.call(rbind, rows)
write.csv(res, file.path(dir, "glm_covariates", "glm_covariates_ref.csv"), row.names = FALSE)
cat("wrote", nrow(res), "rows\n")
