# Reference values for analysis/power.py, from R's pwr package (1.3.0).
# Run from the repository root:  Rscript tests/reference/power/pwr_reference.R
# Writes tests/reference/power/*.csv with 15 significant digits.
suppressPackageStartupMessages(library(pwr))
out <- "tests/reference/power"
# write.csv keeps 15 significant digits for doubles.
w <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE, quote = FALSE)

# 1. power: pwr.t.test(n = n, d = d, sig.level = alpha, alternative = alt)$power
g <- expand.grid(d = c(0.1, 0.2, 0.35, 0.5, 0.8), n = c(10, 50, 200, 1000, 4400),
                 alpha = c(0.05, 0.01, 0.0125), alternative = c("two.sided", "greater"),
                 stringsAsFactors = FALSE)
g$power <- mapply(function(d, n, a, alt) pwr.t.test(n = n, d = d, sig.level = a, alternative = alt)$power,
                  g$d, g$n, g$alpha, g$alternative)
w(g, "t_power.csv")

# 2. unequal groups: pwr.t2n.test(n1 = n1, n2 = n2, d = d, sig.level = alpha)$power
g2 <- data.frame(n1 = c(20, 100, 250, 600, 1500), n2 = c(40, 200, 500, 1200, 3000),
                 d = c(0.8, 0.4, 0.25, 0.15, 0.1), alpha = c(0.05, 0.05, 0.0125, 0.01, 0.05))
g2$power <- mapply(function(n1, n2, d, a) pwr.t2n.test(n1 = n1, n2 = n2, d = d, sig.level = a)$power,
                   g2$n1, g2$n2, g2$d, g2$alpha)
w(g2, "t2n_power.csv")

# 3. sample size: pwr.t.test(d = d, power = p, sig.level = alpha)$n solves with uniroot's
# default tolerance (~1e-4); n_exact solves pwr's own power function to tol = 1e-12.
g3 <- expand.grid(d = c(0.1, 0.2, 0.3, 0.5, 0.8), power = c(0.8, 0.9),
                  alpha = c(0.05, 0.0125, 0.01), stringsAsFactors = FALSE)
g3$n_pwr <- mapply(function(d, p, a) pwr.t.test(d = d, power = p, sig.level = a)$n, g3$d, g3$power, g3$alpha)
g3$n_exact <- mapply(function(d, p, a) uniroot(function(n) pwr.t.test(n = n, d = d, sig.level = a)$power - p,
                                               c(2 + 1e-10, 1e9), tol = 1e-12)$root,
                     g3$d, g3$power, g3$alpha)
g3$n_ceiling <- ceiling(g3$n_exact)
w(g3, "t_n.csv")

# 4. minimum detectable effect: pwr.t.test(n = n, power = p, sig.level = alpha)$d, tightened likewise.
g4 <- expand.grid(n = c(20, 64, 250, 1000, 4400), power = c(0.8, 0.9),
                  alpha = c(0.05, 0.0125), stringsAsFactors = FALSE)
g4$d_pwr <- mapply(function(n, p, a) pwr.t.test(n = n, power = p, sig.level = a)$d, g4$n, g4$power, g4$alpha)
g4$d_exact <- mapply(function(n, p, a) uniroot(function(d) pwr.t.test(n = n, d = d, sig.level = a)$power - p,
                                               c(1e-7, 10), tol = 1e-13)$root,
                     g4$n, g4$power, g4$alpha)
w(g4, "t_mde.csv")

# 5. proportions: h = ES.h(p1, p2); pwr.2p.test(h = h, n = n, sig.level = alpha)$power;
#    n_exact as above from pwr.2p.test's power function.
g5 <- data.frame(p1 = c(0.53, 0.55, 0.60, 0.35, 0.12), p2 = c(0.50, 0.50, 0.50, 0.30, 0.10),
                 n = c(4400, 1000, 400, 1500, 3000), alpha = c(0.05, 0.05, 0.0125, 0.01, 0.05))
g5$h <- ES.h(g5$p1, g5$p2)
g5$power <- mapply(function(h, n, a) pwr.2p.test(h = h, n = n, sig.level = a)$power, g5$h, g5$n, g5$alpha)
g5$n_exact <- mapply(function(h, a) uniroot(function(n) pwr.2p.test(h = h, n = n, sig.level = a)$power - 0.8,
                                            c(2 + 1e-10, 1e9), tol = 1e-12)$root, g5$h, g5$alpha)
w(g5, "p2_power.csv")
