# Bell-McCaffrey degrees of freedom of the factorial contrasts (issue 19). Run from the
# repository root: Rscript tests/reference/factorial/factorial_bm_reference.R
# clubSandwich CR2 with every participant its own cluster is HC2; test = "Satterthwaite"
# gives the Bell-McCaffrey df (Pustejovsky & Tipton 2018).
library(clubSandwich)
d <- read.csv("tests/reference/factorial/factorial_data.csv")
d <- d[!is.na(d$welcome), ]
cells <- d[d$arm != "control", ]
cells$vc <- ifelse(cells$factor_value == "loyalty", 0.5, -0.5)
cells$mc <- ifelse(cells$factor_messenger == "neighbour", 0.5, -0.5)
centred <- lm(welcome ~ vc * mc, data = cells)
ct <- coef_test(centred, vcov = "CR2", cluster = seq_len(nrow(cells)), test = "Satterthwaite")
out <- data.frame(term = c("main_effect", "main_effect", "interaction"),
                  level = c("loyalty", "neighbour", "loyalty"),
                  estimate = ct$beta[2:4], std_error = ct$SE[2:4], df = ct$df_Satt[2:4],
                  p_value = ct$p_Satt[2:4])
d$arm <- factor(d$arm, levels = c("control", "care_refugee", "care_neighbour",
                                  "loyalty_refugee", "loyalty_neighbour"))
all <- lm(welcome ~ arm, data = d)
ca <- coef_test(all, vcov = "CR2", cluster = seq_len(nrow(d)), test = "Satterthwaite")
out <- rbind(out, data.frame(term = "cell_vs_control", level = levels(d$arm)[-1],
                             estimate = ca$beta[-1], std_error = ca$SE[-1], df = ca$df_Satt[-1],
                             p_value = ca$p_Satt[-1]))
w <- function(arms) { v <- setNames(rep(0, 5), names(coef(all))); v[paste0("arm", arms)] <- 0.5; v }
C <- rbind(care = w(c("care_refugee", "care_neighbour")),
           loyalty = w(c("loyalty_refugee", "loyalty_neighbour")),
           refugee = w(c("care_refugee", "loyalty_refugee")),
           neighbour = w(c("care_neighbour", "loyalty_neighbour")))
lc <- linear_contrast(all, vcov = "CR2", cluster = seq_len(nrow(d)), contrasts = C,
                      test = "Satterthwaite")
out <- rbind(out, data.frame(term = "main_effect_vs_control", level = rownames(C),
                             estimate = lc$Est, std_error = lc$SE, df = lc$df,
                             p_value = 2 * pt(-abs(lc$Est / lc$SE), lc$df)))
write.csv(out, "tests/reference/factorial/factorial_bm_ref.csv", row.names = FALSE)
