# Reference values for analysis/ estimators, produced with R 4.2 and
#   estimatr 1.0, sandwich, lmtest, ordinal (clm), stats (glm, p.adjust, wilcox.test).
# Run from the repository root:  Rscript tests/reference/estimators.R
# Reads tests/reference/data/*.csv (written by make_data.py) and writes
#   tests/reference/estimators_reference.csv  (one row per dataset x outcome x method x arm)
#   tests/reference/wald_reference.csv        (HC2 Wald omnibus tests)
#   tests/reference/padjust_reference.csv     (p.adjust)
# Every row carries the exact R call in the `call` column. write.csv keeps 15 significant digits.
suppressPackageStartupMessages({
  library(estimatr); library(sandwich); library(lmtest); library(ordinal)
})
dir <- "tests/reference"
rd <- function(name) read.csv(file.path(dir, "data", name), stringsAsFactors = FALSE)
framing <- rd("framing.csv")
thornton <- rd("thornton_hiv.csv")
synth <- rd("synthetic.csv")
pairs <- rd("pairs.csv")
# The control is the reference level of every factor.
framing$cond <- factor(framing$cond, levels = c("c1", "c2", "c3", "c4"))
thornton$arm <- factor(thornton$arm, levels = c("control", "incentive"))
synth$arm <- factor(synth$arm, levels = c("control", "care", "fairness"))

rows <- list()
add <- function(dataset, outcome, method, arm, call, est, se, stat, df, p, lo, hi) {
  rows[[length(rows) + 1]] <<- data.frame(
    dataset = dataset, outcome = outcome, method = method, arm = arm, call = call,
    estimate = est, std_error = se, statistic = stat, df = df, p_value = p,
    conf_low = lo, conf_high = hi, stringsAsFactors = FALSE)
}
arms_of <- function(f) levels(f)[-1]
from_estimatr <- function(fit, dataset, outcome, method, arm, term, call) {
  t <- tidy(fit); t <- t[t$term == term, ]
  add(dataset, outcome, method, arm, call, t$estimate, t$std.error, t$statistic, t$df,
      t$p.value, t$conf.low, t$conf.high)
}
dim_ref <- function(data, dataset, outcome, armvar, blocks = NULL) {
  for (a in arms_of(data[[armvar]])) {
    ctl <- levels(data[[armvar]])[1]
    if (is.null(blocks)) {
      call <- sprintf('difference_in_means(%s ~ %s, data = %s, condition1 = "%s", condition2 = "%s")',
                      outcome, armvar, dataset, ctl, a)
      fit <- difference_in_means(as.formula(paste(outcome, "~", armvar)), data = data,
                                 condition1 = ctl, condition2 = a)
    } else {
      call <- sprintf('difference_in_means(%s ~ %s, blocks = %s, data = %s, condition1 = "%s", condition2 = "%s")',
                      outcome, armvar, blocks, dataset, ctl, a)
      fit <- suppressWarnings(difference_in_means(as.formula(paste(outcome, "~", armvar)),
                                 blocks = data[[blocks]], data = data,
                                 condition1 = ctl, condition2 = a))
    }
    t <- tidy(fit)
    add(dataset, outcome, if (is.null(blocks)) "difference_in_means" else "difference_in_means_blocked",
        a, call, t$estimate, t$std.error, t$statistic, t$df, t$p.value, t$conf.low, t$conf.high)
  }
}
lin_ref <- function(data, dataset, outcome, armvar, covs) {
  call <- sprintf("lm_lin(%s ~ %s, covariates = ~ %s, data = %s)", outcome, armvar,
                  paste(covs, collapse = " + "), dataset)
  fit <- lm_lin(as.formula(paste(outcome, "~", armvar)),
                covariates = as.formula(paste("~", paste(covs, collapse = " + "))), data = data)
  for (a in arms_of(data[[armvar]]))
    from_estimatr(fit, dataset, outcome, "lin", a, paste0(armvar, a), call)
}
robust_ref <- function(data, dataset, outcome, armvar, rhs, method, lhs = outcome) {
  call <- sprintf('lm_robust(%s ~ %s, data = %s, se_type = "HC2")', lhs, rhs, dataset)
  fit <- lm_robust(as.formula(paste(lhs, "~", rhs)), data = data, se_type = "HC2")
  for (a in arms_of(data[[armvar]]))
    from_estimatr(fit, dataset, outcome, method, a, paste0(armvar, a), call)
}
wald_coefs <- function(co, dataset, outcome, method, armvar, arms, call) {
  z <- qnorm(0.975)
  for (a in arms) {
    r <- co[paste0(armvar, a), ]
    add(dataset, outcome, method, a, call, r[1], r[2], r[3], Inf, r[4],
        r[1] - z * r[2], r[1] + z * r[2])
  }
}
logit_ref <- function(data, dataset, outcome, armvar) {
  call <- sprintf("glm(%s ~ %s, family = binomial, data = %s, control = glm.control(epsilon = 1e-14, maxit = 100))  # summary() + confint.default()",
                  outcome, armvar, dataset)
  # Tight convergence: glm.control()'s default epsilon 1e-8 stops before 1e-6 agreement in p.
  fit <- glm(as.formula(paste(outcome, "~", armvar)), family = binomial, data = data,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  wald_coefs(summary(fit)$coefficients, dataset, outcome, "logit", armvar,
             arms_of(data[[armvar]]), call)
}
clm_ref <- function(data, dataset, outcome, armvar) {
  call <- sprintf("clm(factor(%s) ~ %s, data = %s)  # summary(); Wald interval", outcome,
                  armvar, dataset)
  d <- data[!is.na(data[[outcome]]), ]
  d$.y <- factor(d[[outcome]], ordered = TRUE)
  fit <- clm(as.formula(paste(".y ~", armvar)), data = d,
             control = clm.control(gradTol = 1e-10, relTol = 1e-12))
  wald_coefs(summary(fit)$coefficients, dataset, outcome, "ordinal_logit", armvar,
             arms_of(data[[armvar]]), call)
}
wilcox_ref <- function(data, dataset, outcome, armvar) {
  ctl <- levels(data[[armvar]])[1]
  for (a in arms_of(data[[armvar]])) {
    yt <- na.omit(data[[outcome]][data[[armvar]] == a])
    yc <- na.omit(data[[outcome]][data[[armvar]] == ctl])
    w <- wilcox.test(yt, yc, exact = FALSE, correct = TRUE)
    add(dataset, outcome, "mann_whitney", a,
        sprintf('wilcox.test(y[%s == "%s"], y[%s == "%s"], exact = FALSE, correct = TRUE)',
                armvar, a, armvar, ctl),
        unname(w$statistic) / (length(yt) * length(yc)), NA, unname(w$statistic), NA,
        w$p.value, NA, NA)
  }
}
# Closed forms (Hedges 1981; Hedges & Olkin 1985 eq. 5.14), written independently of Python.
es_ref <- function(data, dataset, outcome, armvar) {
  ctl <- levels(data[[armvar]])[1]
  for (a in arms_of(data[[armvar]])) {
    yt <- na.omit(data[[outcome]][data[[armvar]] == a])
    yc <- na.omit(data[[outcome]][data[[armvar]] == ctl])
    nt <- length(yt); nc <- length(yc); m <- nt + nc - 2
    sp <- sqrt(((nt - 1) * var(yt) + (nc - 1) * var(yc)) / m)
    d <- (mean(yt) - mean(yc)) / sp
    J <- exp(lgamma(m / 2) - log(sqrt(m / 2)) - lgamma((m - 1) / 2))
    se <- J * sqrt((nt + nc) / (nt * nc) + d^2 / (2 * (nt + nc)))
    add(dataset, outcome, "effect_sizes", a,
        "d = diff / pooled sd; g = J d (exact J); CI g +/- qnorm(.975) J sqrt((nt+nc)/(nt nc) + d^2/(2(nt+nc)))",
        J * d, se, d, m, NA, J * d - qnorm(0.975) * se, J * d + qnorm(0.975) * se)
  }
}

# TOST with Welch t tests; bound = 0.1 x pooled SD of the two arms.
tost_ref <- function(data, dataset, outcome, armvar, bound_sd = 0.1) {
  ctl <- levels(data[[armvar]])[1]
  for (a in arms_of(data[[armvar]])) {
    yt <- na.omit(data[[outcome]][data[[armvar]] == a])
    yc <- na.omit(data[[outcome]][data[[armvar]] == ctl])
    nt <- length(yt); nc <- length(yc)
    b <- bound_sd * sqrt(((nt - 1) * var(yt) + (nc - 1) * var(yc)) / (nt + nc - 2))
    lo <- t.test(yt, yc, mu = -b, alternative = "greater")
    hi <- t.test(yt, yc, mu = b, alternative = "less")
    ci <- t.test(yt, yc, conf.level = 0.90)$conf.int
    add(dataset, outcome, "equivalence", a,
        sprintf('max(t.test(yt, yc, mu = -b, alternative = "greater")$p.value, t.test(yt, yc, mu = b, alternative = "less")$p.value), b = %s x pooled sd; CI: t.test(conf.level = 0.90)', bound_sd),
        mean(yt) - mean(yc), lo$stderr, b, unname(lo$parameter), max(lo$p.value, hi$p.value),
        ci[1], ci[2])
  }
}
covariate_models <- function() {
  call <- "glm(join ~ arm + x1, family = binomial, data = synthetic, control = glm.control(epsilon = 1e-14, maxit = 100))"
  fit <- glm(join ~ arm + x1, family = binomial, data = synth,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  wald_coefs(summary(fit)$coefficients, "synthetic", "join", "logit_covariates", "arm",
             arms_of(synth$arm), call)
  d <- synth[!is.na(synth$support) & !is.na(synth$x1), ]
  d$.y <- factor(d$support, ordered = TRUE)
  fit <- clm(.y ~ arm + x1, data = d, control = clm.control(gradTol = 1e-10, relTol = 1e-12))
  wald_coefs(summary(fit)$coefficients, "synthetic", "support", "ordinal_logit_covariates", "arm",
             arms_of(synth$arm), "clm(factor(support) ~ arm + x1, data = synthetic)  # Wald interval")
}

# --- framing (Brader et al. 2008), 4 arms, control c1
for (y in c("immigr", "emo", "cong_mesg")) dim_ref(framing, "framing", y, "cond")
dim_ref(framing, "framing", "emo", "cond", blocks = "gender")
for (y in c("immigr", "emo", "cong_mesg")) lin_ref(framing, "framing", y, "cond", c("age", "income", "gender", "educ"))
robust_ref(framing, "framing", "emo", "cond", "cond + age", "ancova")
logit_ref(framing, "framing", "cong_mesg", "cond")
clm_ref(framing, "framing", "immigr", "cond")
wilcox_ref(framing, "framing", "emo", "cond")
es_ref(framing, "framing", "emo", "cond")
tost_ref(framing, "framing", "emo", "cond")

# --- Thornton (2008): incentive vs none, blocks = village
dim_ref(thornton, "thornton", "got", "arm")
dim_ref(thornton, "thornton", "got", "arm", blocks = "villnum")
lin_ref(thornton, "thornton", "got", "arm", c("age", "distvct"))
logit_ref(thornton, "thornton", "got", "arm")

# --- synthetic: blocks, covariates, pre-measure, attrition
for (y in c("post", "join")) dim_ref(synth, "synthetic", y, "arm")
for (y in c("post", "support")) dim_ref(synth, "synthetic", y, "arm", blocks = "block")
lin_ref(synth, "synthetic", "post", "arm", c("x1", "x2", "pre"))
robust_ref(synth, "synthetic", "post", "arm", "arm + pre", "ancova")
robust_ref(synth, "synthetic", "post", "arm", "arm", "change_score", lhs = "I(post - pre)")
logit_ref(synth, "synthetic", "join", "arm")
clm_ref(synth, "synthetic", "support", "arm")
wilcox_ref(synth, "synthetic", "support", "arm")
es_ref(synth, "synthetic", "post", "arm")
tost_ref(synth, "synthetic", "post", "arm")
covariate_models()

# --- matched pairs (all blocks of 2) and the mixed design (estimatr warns, uses pair variance)
pp <- pairs[pairs$design == "pairs", ]
pp$arm <- factor(pp$arm, levels = c("control", "frame"))
dim_ref(pp, "pairs", "y", "arm", blocks = "pair")
pm <- pairs; pm$arm <- factor(pm$arm, levels = c("control", "frame"))
dim_ref(pm, "pairs_mixed", "y", "arm", blocks = "pair")

ref <- do.call(rbind, rows)
write.csv(ref, file.path(dir, "estimators_reference.csv"), row.names = FALSE)

# --- HC2 Wald omnibus: all arm coefficients zero
wald <- list()
for (spec in list(list(framing, "framing", "emo", "cond"), list(framing, "framing", "immigr", "cond"),
                  list(synth, "synthetic", "post", "arm"))) {
  data <- spec[[1]]; y <- spec[[3]]; a <- spec[[4]]
  fit <- lm(as.formula(paste(y, "~", a)), data = data)
  V <- vcovHC(fit, type = "HC2")
  ch <- waldtest(fit, vcov = V, test = "Chisq")
  ft <- waldtest(fit, vcov = V, test = "F")
  wald[[length(wald) + 1]] <- data.frame(
    dataset = spec[[2]], outcome = y,
    call = sprintf('waldtest(lm(%s ~ %s), vcov = vcovHC(fit, type = "HC2"), test = "Chisq" / "F")', y, a),
    statistic = ch$Chisq[2], df = abs(ch$Df[2]), p_value = ch$`Pr(>Chisq)`[2],
    f_statistic = ft$F[2], df_num = abs(ft$Df[2]), df_denom = ft$Res.Df[1], f_p_value = ft$`Pr(>F)`[2])
}
write.csv(do.call(rbind, wald), file.path(dir, "wald_reference.csv"), row.names = FALSE)

# --- p.adjust on a fixed family with ties and an NA
p <- c(0.01, 0.04, 0.03, 0.005, 0.04, NA, 0.2, 0.0001, 0.5)
adj <- data.frame(p = p, holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH"),
                  bonferroni = p.adjust(p, "bonferroni"), none = p.adjust(p, "none"))
write.csv(adj, file.path(dir, "padjust_reference.csv"), row.names = FALSE)
