"""The functions the docs show generated code for (docs/how-it-works.md)."""
import math


def pendulum(k, theta0):
    theta = theta0
    omega = 0.0
    t = 0.0
    while t < 10.0:
        alpha = -k * math.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
        t = t + 0.01
    return theta * theta + omega * omega


def clipped_power(x, n):
    total = 0.0
    for i in range(n):
        if x > 1.0:
            break
        total = total + x ** i
        x = x * 1.1
    return total
