# Scale reliability against psych (R 4.2.2, psych 2.2.9): Cronbach's alpha with Feldt's
# interval from psych::alpha and McDonald's omega total from psych::omega(nfactors = 1)
# (one-factor minres model, items not flipped: omega.tot = 1 - sum(u2) / sum(R)).
# Items: psych's bfi data (Big Five inventory, 2800 respondents, 6-point items), the
# subsets below written to bfi_items.csv; complete cases per scale (psych::alpha uses
# pairwise deletion, so each scale's data are complete-cased first, as analysis does).
# Run from the repository root:  Rscript tests/reference/reliability/reliability.R
# Writes tests/reference/reliability/bfi_items.csv and reliability_ref.csv.
suppressPackageStartupMessages(library(psych))
out <- "tests/reference/reliability"
data(bfi)
items <- c("A2", "A3", "A4", "A5", "C1", "C2", "C3", "E3", "E4", "E5", "N1", "N2", "N3", "N4", "N5", "O1", "O3")
d <- bfi[, items]
write.csv(d, file.path(out, "bfi_items.csv"), row.names = FALSE)
scales <- list(
  agreeableness = c("A2", "A3", "A4", "A5"),
  conscientiousness = c("C1", "C2", "C3"),
  extraversion = c("E3", "E4", "E5"),
  neuroticism = c("N1", "N2", "N3", "N4", "N5"),
  openness_two = c("O1", "O3"),
  mixed_low = c("A2", "C1", "N3", "O1")
)
# The same one-factor model solved tightly (BFGS on the loadings, gradient given): the
# minres optimum itself, free of psych's optimiser tolerance (which is ~1e-7 here).
uls_omega <- function(x) {
  R <- cor(x); k <- ncol(R)
  f <- function(l) { M <- R - tcrossprod(l); diag(M) <- 0; sum(M^2) }
  g <- function(l) { M <- R - tcrossprod(l); diag(M) <- 0; -4 * drop(M %*% l) }
  l0 <- sqrt(pmax(1 - 1 / diag(solve(R)), 0.05))
  o <- optim(l0, f, g, method = "BFGS", control = list(reltol = 1e-300, abstol = 0, maxit = 100000))
  1 - sum(1 - o$par^2) / sum(R)
}
rows <- list()
for (s in names(scales)) {
  x <- na.omit(d[, scales[[s]]])
  a <- suppressWarnings(alpha(x, check.keys = FALSE))
  om <- if (ncol(x) > 2) suppressWarnings(suppressMessages(omega(x, nfactors = 1, flip = FALSE, plot = FALSE)))$omega.tot else NA
  rows[[s]] <- data.frame(scale = s, items = paste(scales[[s]], collapse = " "), n = nrow(x),
    alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
    conf_low = a$feldt$lower.ci[[1]], conf_high = a$feldt$upper.ci[[1]], omega_total = om,
    omega_uls = if (ncol(x) > 2) uls_omega(x) else NA,
    call = sprintf("psych::alpha(x)$total / $feldt; psych::omega(x, nfactors = 1, flip = FALSE)$omega.tot; x = na.omit(bfi[, c(%s)])",
                   paste0('"', scales[[s]], '"', collapse = ", ")))
}
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "reliability_ref.csv"), row.names = FALSE)
print(res[, 1:8], digits = 10)
