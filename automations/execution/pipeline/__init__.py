"""The step pipeline: extract, check, decide, validate, guard, route, deliver — one class a step, one
StepRun row a step. Steps before `route` only compute; `route` and `deliver` write in short transactions."""
