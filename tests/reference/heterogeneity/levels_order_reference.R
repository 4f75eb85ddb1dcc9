# Reference values for declared level order (analysis/_data.py::factor, used by
# heterogeneity, diagnostics and the estimators' covariate coding).
# Run from the repository root:  Rscript tests/reference/heterogeneity/levels_order_reference.R
# Needs R >= 4 and sandwich (Debian r-cran-sandwich). Writes, 15 significant digits:
#   levels_order_data.csv        a synthetic study: arm (control/care/fairness), ideology
#                                (liberal/moderate/conservative), education code (1/2/3),
#                                region (text covariate), support (outcome)
#   levels_order_interactions.csv lm(support ~ arm * factor(moderator, levels = declared) [+ region])
#                                 interaction terms, HC2 standard errors (sandwich::vcovHC)
#   levels_order_joint.csv       HC2 Wald test of all interaction terms (chi-square and F)
#   levels_order_subgroups.csv   per level and arm: mean(arm) - mean(control) (closed form)
# Declared orders: ideology liberal, moderate, conservative (alphabetical would make
# "conservative" the reference); education 3, 1, 2; region south, north, west.
suppressPackageStartupMessages(library(sandwich))
dir <- "tests/reference/heterogeneity"
w <- function(df, name) write.csv(df, file.path(dir, name), row.names = FALSE, na = "")

set.seed(20261203)
n <- 360
d <- data.frame(
  arm = sample(c("control", "care", "fairness"), n, TRUE),
  ideology = sample(c("liberal", "moderate", "conservative"), n, TRUE, prob = c(0.4, 0.3, 0.3)),
  education = sample(1:3, n, TRUE),
  region = sample(c("north", "south", "west"), n, TRUE)
)
# Effects that differ by ideology and education, so the reference level matters.
eff <- c(control = 0, care = 0.6, fairness = 0.3)[d$arm]
by_ideo <- c(liberal = 0.5, moderate = 0, conservative = -0.7)[d$ideology]
by_educ <- c(`1` = -0.3, `2` = 0, `3` = 0.4)[as.character(d$education)]
d$support <- round(3 + eff * (1 + by_ideo + by_educ) + 0.4 * (d$ideology == "conservative") +
                     0.2 * (d$region == "west") + rnorm(n, 0, 1), 3)
d$support[sample(n, 12)] <- NA
w(d, "levels_order_data.csv")
d <- read.csv(file.path(dir, "levels_order_data.csv"), stringsAsFactors = FALSE)

declared <- list(ideology = c("liberal", "moderate", "conservative"), education = c(3, 1, 2),
                 region = c("south", "north", "west"))
d$arm <- factor(d$arm, levels = c("control", "care", "fairness"))
hc2 <- function(fit, terms) {
  V <- vcovHC(fit, type = "HC2")
  b <- coef(fit)[terms]
  se <- sqrt(diag(V)[terms])
  dof <- df.residual(fit)
  q <- qt(0.975, dof)
  list(table = data.frame(term = terms, estimate = b, std_error = se, statistic = b / se,
                          df = dof, p_value = 2 * pt(-abs(b / se), dof),
                          conf_low = b - q * se, conf_high = b + q * se, n = nobs(fit)),
       wald = as.numeric(t(b) %*% solve(V[terms, terms], b)), q = length(terms), dof = dof)
}

models <- list(
  list("ideology", "ideology", support ~ arm * ideology),
  list("education", "education", support ~ arm * education),
  list("ideology_region", "ideology", support ~ arm * ideology + region)
)
inter <- list(); joint <- list()
for (md in models) {
  m <- d
  for (col in names(declared)) m[[col]] <- factor(m[[col]], levels = declared[[col]])
  fit <- lm(md[[3]], data = m)
  terms <- grep(":", names(coef(fit)), value = TRUE)
  r <- hc2(fit, terms)
  # R names a term "armcare:ideologymoderate"; analysis names it "care:ideologymoderate".
  r$table$term <- sub("^arm", "", r$table$term)
  inter[[length(inter) + 1]] <- cbind(model = md[[1]], moderator = md[[2]], r$table)
  joint[[length(joint) + 1]] <- data.frame(model = md[[1]], statistic = r$wald, df = r$q,
    p_value = pchisq(r$wald, r$q, lower.tail = FALSE), f_statistic = r$wald / r$q,
    df_num = r$q, df_denom = r$dof, f_p_value = pf(r$wald / r$q, r$q, r$dof, lower.tail = FALSE),
    n = nobs(fit))
}
w(do.call(rbind, inter), "levels_order_interactions.csv")
w(do.call(rbind, joint), "levels_order_joint.csv")

sub <- list()
for (mod in c("ideology", "education")) for (lv in declared[[mod]]) for (a in c("care", "fairness")) {
  s <- d[d[[mod]] == lv & !is.na(d$support), ]
  sub[[length(sub) + 1]] <- data.frame(moderator = mod, level = lv, arm = a,
    estimate = mean(s$support[s$arm == a]) - mean(s$support[s$arm == "control"]))
}
w(do.call(rbind, sub), "levels_order_subgroups.csv")
