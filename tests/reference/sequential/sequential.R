# Reference for analysis/sequential.py (tests/analysis/test_sequential.py).
# Run from this folder: Rscript sequential.R  -> sequential_reference.csv
# Estimates and standard errors: estimatr (difference_in_means, lm_lin with HC2).
# Boundary: the Gaussian-mixture asymptotic confidence sequence of Waudby-Smith,
# Arbour, Sinha, Kennedy & Ramdas (2024, Ann. Statist., Thm 2.2), computed two ways:
# its closed form, and by uniroot on the mixture martingale
#   M(theta) = (n rho^2 + 1)^(-1/2) exp(n^2 rho^2 (est - theta)^2 / (2 sigma^2 (n rho^2 + 1)))
# with sigma^2 = n se^2, whose level set M = 1/alpha is the sequence's edge.
# The anytime p-value is min(1, 1 / M(0)).
library(estimatr)
d <- read.csv("sequential_data.csv")
alpha <- 0.05 / 2 # two frames: Bonferroni
tune_at <- 400
rho2 <- (-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tune_at
looks <- c(60, 150, 300, 600)
out <- list()
for (look in looks) {
  sub <- d[seq_len(look), ]
  sub$arm <- factor(sub$arm, levels = c("control", "care", "fair"))
  lin_fit <- lm_lin(y ~ arm, covariates = ~x, data = sub, se_type = "HC2")
  for (a in c("care", "fair")) {
    pair <- sub[sub$arm %in% c("control", a), ]
    n <- nrow(pair)
    dim <- difference_in_means(y ~ arm, data = pair, condition1 = "control", condition2 = a)
    fits <- list(
      difference_in_means = c(dim$coefficients[[1]], dim$std.error[[1]]),
      lin = c(coef(lin_fit)[[paste0("arm", a)]], lin_fit$std.error[[paste0("arm", a)]])
    )
    for (method in names(fits)) {
      est <- fits[[method]][1]
      se <- fits[[method]][2]
      v <- n * rho2
      closed <- se * sqrt(2 * (v + 1) / v * log(sqrt(v + 1) / alpha))
      sigma2 <- n * se^2
      log_m <- function(r) -0.5 * log(v + 1) + n^2 * rho2 * r^2 / (2 * sigma2 * (v + 1))
      root <- uniroot(function(r) log_m(r) - log(1 / alpha), c(0, 100 * se), tol = 1e-12)$root
      p <- min(1, exp(-log_m(est)))
      out[[length(out) + 1]] <- data.frame(
        look_n = look, arm = a, method = method, n = n, estimate = est, std_error = se,
        radius_closed = closed, radius_root = root, cs_low = est - root, cs_high = est + root,
        anytime_p = p
      )
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, "sequential_reference.csv", row.names = FALSE)
print(res, digits = 10)
