import{A as e,n}from"./index-B7mYi89l.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
