"""Our REST server: CAVE AnnotationEngine v2 routes plus our own, over the embedded engine."""
