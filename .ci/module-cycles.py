#!/usr/bin/env python3
"""Checks that no two source files of a crate import each other, directly or
through others: the file-level import graph of every crate must be acyclic.

An edge A -> B means a path written in file A (`use` paths and inline paths
starting with `crate::`, `super::`, `self::` or the crate's own name) names
module B or an item reached through module B: the file of the longest module
prefix of the path, as written. A re-export is an import too: a parent module
that re-exports its children's items depends on them, so the children must
name each other directly (`super::state::X`), never through the parent. Test modules (`#[cfg(test)]`) are not part of the design's
plan and are left out. Prints every cycle found and exits 1 if there is one.

Usage: .ci/module-cycles.py [CRATE_DIR ...]   (default: every workspace crate)
"""

import os
import re
import sys

ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+|async\s+|const\s+|extern\s+\"C\"\s+)*"
    r"(struct|enum|trait|fn|type|const|static|union|mod|macro_rules!)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")
PATH_ATTR = re.compile(r'#\[path\s*=\s*"([^"]+)"\]')
INLINE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for line in text.splitlines():
        # Drop line comments, keeping string contents intact enough for our use.
        i = line.find("//")
        if i >= 0 and line.count('"', 0, i) % 2 == 0:
            line = line[:i]
        out.append(line)
    return out


def non_test_lines(lines):
    """Lines outside `#[cfg(test)]` items (brace-matched)."""
    out = []
    state, depth = "normal", 0  # normal | attr (after cfg(test)) | body
    for line in lines:
        if state == "normal":
            if re.match(r"^\s*#\[cfg\((test|all\(test.*)\)\]", line):
                state = "attr"
                continue
            out.append(line)
        elif state == "attr":
            if line.strip().startswith("#[") or not line.strip():
                continue
            depth = line.count("{") - line.count("}")
            if depth > 0:
                state = "body"
            elif "{" in line or line.rstrip().endswith(";"):
                state = "normal"
            else:
                state = "open"  # the item's brace opens on a later line
        elif state == "open":
            depth = line.count("{") - line.count("}")
            if "{" in line:
                state = "body" if depth > 0 else "normal"
        else:
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                state = "normal"
    return out


def expand_use(tree):
    """Expands a use tree (without `use` and `;`) into paths (lists of segments)."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas[A-Za-z_][A-Za-z0-9_]*", "", tree)

    def parse(s, i, prefix):
        paths = []
        cur = prefix[:]
        seg = ""
        while i < len(s):
            c = s[i]
            if s.startswith("::", i):
                if seg:
                    cur.append(seg)
                    seg = ""
                i += 2
                continue
            if c == "{":
                sub, i = parse(s, i + 1, cur + ([seg] if seg else []))
                paths.extend(sub)
                seg = ""
                cur = None
                continue
            if c == ",":
                if cur is not None:
                    paths.append(cur + ([seg] if seg else []))
                cur, seg = prefix[:], ""
                i += 1
                continue
            if c == "}":
                if cur is not None:
                    paths.append(cur + ([seg] if seg else []))
                return paths, i + 1
            seg += c
            i += 1
        if cur is not None:
            paths.append(cur + ([seg] if seg else []))
        return paths, i

    paths, _ = parse(tree, 0, [])
    return [[p for p in path if p] for path in paths if path]


class Crate:
    def __init__(self, root):
        self.root = root
        self.name = None
        toml = os.path.join(root, "Cargo.toml")
        with open(toml) as f:
            m = re.search(r'^name\s*=\s*"([^"]+)"', f.read(), re.M)
            self.name = m.group(1).replace("-", "_")
        self.modules = {}  # module path tuple -> file
        self.files = {}  # file -> module path tuple
        self.defs = {}  # file -> set of item names
        self.reexports = {}  # file -> {name: absolute path}
        self.lines = {}
        src = os.path.join(root, "src")
        roots = []
        if os.path.exists(os.path.join(src, "lib.rs")):
            roots.append(os.path.join(src, "lib.rs"))
        elif os.path.exists(os.path.join(src, "main.rs")):
            roots.append(os.path.join(src, "main.rs"))
        for r in roots:
            self.load(r, ())

    def load(self, path, modpath):
        if path in self.files or not os.path.exists(path):
            return
        self.modules[modpath] = path
        self.files[path] = modpath
        with open(path) as f:
            lines = non_test_lines(strip_comments(f.read()))
        self.lines[path] = lines
        defs = set()
        pending_path = None
        for line in lines:
            pa = PATH_ATTR.search(line)
            if pa:
                pending_path = pa.group(1)
            m = ITEM.match(line)
            if m:
                defs.add(m.group(2))
            md = MOD_DECL.match(line)
            if md:
                name = md.group(1)
                base = os.path.dirname(path)
                stem = os.path.basename(path)
                if stem not in ("lib.rs", "main.rs", "mod.rs"):
                    base = os.path.join(base, stem[:-3])
                if pending_path:
                    child = os.path.join(os.path.dirname(path), pending_path)
                else:
                    child = os.path.join(base, name + ".rs")
                    if not os.path.exists(child):
                        child = os.path.join(base, name, "mod.rs")
                pending_path = None
                self.load(child, modpath + (name,))
        self.defs[path] = defs
        self.reexports[path] = {}

    def absolute(self, file, segs):
        """Absolute module-relative segments for a path written in `file`."""
        mod = list(self.files[file])
        if not segs:
            return None
        head = segs[0]
        if head == "crate" or head == self.name:
            return segs[1:]
        if head == "super":
            i = 0
            while i < len(segs) and segs[i] == "super":
                mod = mod[:-1]
                i += 1
            return mod + segs[i:]
        if head == "self":
            return mod + segs[1:]
        # A path starting with a child module of this file.
        if tuple(mod + [head]) in self.modules:
            return mod + segs
        return None

    def collect_reexports(self):
        for file, lines in self.lines.items():
            for stmt in use_statements(lines, public_only=True):
                for p in expand_use(stmt):
                    absp = self.absolute(file, p)
                    if absp and p[-1] not in ("*", "self"):
                        self.reexports[file][p[-1]] = absp

    def resolve(self, absp, depth=0):
        """The file defining the item at absolute path `absp` (list of segments)."""
        if depth > 20 or absp is None:
            return None
        # Longest module prefix.
        for k in range(len(absp), -1, -1):
            mod = tuple(absp[:k])
            if mod in self.modules:
                file = self.modules[mod]
                rest = absp[k:]
                if not rest or rest[0] in ("*", "self"):
                    return file
                return file
        return None

    def edges(self):
        self.collect_reexports()
        graph = {f: set() for f in self.files}
        inline_mod = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{")
        for file, lines in self.lines.items():
            base = self.files[file]
            stack, depth = [], 0  # inline modules: (name, depth inside them)
            stmt = None
            for line in lines:
                m = inline_mod.match(line)
                if m:
                    stack.append((m.group(1), depth + 1))
                depth += line.count("{") - line.count("}")
                while stack and depth < stack[-1][1]:
                    stack.pop()
                here = base + tuple(n for n, _ in stack)
                paths = []
                if stmt is None:
                    u = re.match(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+(.*)$", line)
                    if u:
                        stmt = u.group(1)
                else:
                    stmt += " " + line
                if stmt is not None:
                    if ";" in stmt:
                        paths.extend(expand_use(stmt[: stmt.index(";")]))
                        stmt = None
                else:
                    for im in INLINE.finditer(line):
                        paths.append([im.group(1)] + [x for x in im.group(2).split("::") if x])
                for p in paths:
                    target = self.resolve(self.absolute_in(here, p))
                    if target and target != file:
                        graph[file].add(target)
        return graph

    def absolute_in(self, mod, segs):
        """Absolute segments for a path written inside module `mod`."""
        mod = list(mod)
        head = segs[0]
        if head == "crate" or head == self.name:
            return segs[1:]
        if head == "super":
            i = 0
            while i < len(segs) and segs[i] == "super":
                mod = mod[:-1]
                i += 1
            return mod + segs[i:]
        if head == "self":
            return mod + segs[1:]
        if tuple(mod + [head]) in self.modules:
            return mod + segs
        return None


def use_statements(lines, public_only):
    text = "\n".join(lines)
    pat = r"^\s*pub(?:\([^)]*\))?\s+use\s+([^;]+);" if public_only else r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);"
    return [m.group(1) for m in re.finditer(pat, text, re.M)]


def cycles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def workspace_crates(top):
    with open(os.path.join(top, "Cargo.toml")) as f:
        m = re.search(r"members\s*=\s*\[([^\]]*)\]", f.read(), re.S)
    return [os.path.join(top, s) for s in re.findall(r'"([^"]+)"', m.group(1))]


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    crates = sys.argv[1:] or workspace_crates(top)
    bad = 0
    for c in crates:
        crate = Crate(c)
        graph = crate.edges()
        for comp in cycles(graph):
            bad += 1
            rel = [os.path.relpath(f, top) for f in comp]
            print(f"import cycle in {crate.name}: " + ", ".join(rel))
            for f in comp:
                for t in sorted(graph[f]):
                    if t in comp:
                        print(f"    {os.path.relpath(f, top)} -> {os.path.relpath(t, top)}")
        print(f"{crate.name}: {len(graph)} files, {sum(len(v) for v in graph.values())} imports, "
              f"{len(cycles(graph))} cycles")
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
