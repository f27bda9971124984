/* extrun's example: a small multi-phase command-line extension.
 *
 * Module state holds a greeting count; the Greeter heap type finds its module with
 * PyType_GetModuleByDef, so it works in whatever module object the definition is executed in,
 * including one extrun made from an existing module (PEP 547's exec_in_module).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    long greetings;
} hello_state;

static PyModuleDef hello_def;

static PyObject *
greeter_greet(PyObject *self, PyObject *args)
{
    const char *who = "world";
    if (!PyArg_ParseTuple(args, "|s", &who)) {
        return NULL;
    }
    PyObject *module = PyType_GetModuleByDef(Py_TYPE(self), &hello_def);
    if (module == NULL) {
        return NULL;
    }
    hello_state *st = PyModule_GetState(module);
    if (st == NULL) {
        return NULL;
    }
    PyObject *name = PyModule_GetNameObject(module);
    if (name == NULL) {
        return NULL;
    }
    st->greetings++;
    PyObject *text = PyUnicode_FromFormat("Hello, %s! (greeting %ld from module %U)", who,
                                          st->greetings, name);
    Py_DECREF(name);
    return text;
}

static PyMethodDef greeter_methods[] = {
    {"greet", greeter_greet, METH_VARARGS, "Greet someone, counting greetings in module state."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot greeter_slots[] = {
    {Py_tp_methods, greeter_methods},
    {Py_tp_doc, "Greets, and counts greetings in its module's state."},
    {0, NULL},
};

static PyType_Spec greeter_spec = {
    .name = "hello.Greeter",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = greeter_slots,
};

static PyObject *
hello_main(PyObject *module, PyObject *Py_UNUSED(arg))
{
    PyObject *argv = PySys_GetObject("argv");  /* borrowed */
    PyObject *type = PyObject_GetAttrString(module, "Greeter");
    if (type == NULL) {
        return NULL;
    }
    PyObject *greeter = PyObject_CallNoArgs(type);
    Py_DECREF(type);
    if (greeter == NULL) {
        return NULL;
    }
    Py_ssize_t n = argv && PyList_Check(argv) ? PyList_GET_SIZE(argv) : 0;
    for (Py_ssize_t i = n > 1 ? 1 : 0; i < (n > 1 ? n : 1); i++) {
        PyObject *r = n > 1 ? PyObject_CallMethod(greeter, "greet", "O", PyList_GET_ITEM(argv, i))
                            : PyObject_CallMethod(greeter, "greet", NULL);
        if (r == NULL) {
            Py_DECREF(greeter);
            return NULL;
        }
        PySys_FormatStdout("%U\n", r);
        Py_DECREF(r);
    }
    Py_DECREF(greeter);
    Py_RETURN_NONE;
}

static PyMethodDef hello_methods[] = {
    {"main", hello_main, METH_NOARGS, "Greet each name in sys.argv[1:]."},
    {NULL, NULL, 0, NULL},
};

static int
hello_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &greeter_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int rc = PyModule_AddObjectRef(module, "Greeter", type);
    Py_DECREF(type);
    if (rc < 0) {
        return -1;
    }
    /* Like `if __name__ == "__main__": main()` in a Python script. */
    PyObject *name = PyModule_GetNameObject(module);
    if (name == NULL) {
        return -1;
    }
    int is_main = PyUnicode_CompareWithASCIIString(name, "__main__") == 0;
    Py_DECREF(name);
    if (is_main) {
        PyObject *r = hello_main(module, NULL);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    return 0;
}

static PyModuleDef_Slot hello_slots[] = {
    {Py_mod_exec, hello_exec},
#if PY_VERSION_HEX >= 0x030c0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030d0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static PyModuleDef hello_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hello",
    .m_doc = "extrun's example extension: greets the names on its command line.",
    .m_size = sizeof(hello_state),
    .m_methods = hello_methods,
    .m_slots = hello_slots,
};

PyMODINIT_FUNC PyInit_hello(void) { return PyModuleDef_Init(&hello_def); }
